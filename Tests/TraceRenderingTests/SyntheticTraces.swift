import TraceAnalysis
import TraceFormat

/// Small traces built in code, for renderer tests that must not depend on the recorder's timing.
enum SyntheticTraces {
    /// main (#1) starts long_task (#2), cancels it at 1.001 s; long_task catches, cleans up and returns.
    static func swallow(taskName: String = "long_task") throws -> [UInt8] {
        var builder = TraceBuilder(sink: InMemoryTrace())
        try builder.info([(TraceInfo.Key.runtime, "swift")])
        let ms: UInt64 = 1_000_000
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        try builder.append(.spawn(time: 1 * ms, task: 2, parent: 1, name: builder.string(taskName), how: .unstructured))
        try builder.append(.spawn(time: 2 * ms, task: 3, parent: 1, name: builder.string("helper"), how: .unstructured))
        try builder.append(.end(time: 400 * ms, task: 3, outcome: .returned))
        try builder.append(.cancel(time: 1001 * ms, task: 2, by: 1, reason: .explicit))
        try builder.append(.caught(time: 1002 * ms, task: 2, error: builder.string("CancellationError")))
        try builder.append(.cleanupBegin(time: 1002 * ms, task: 2))
        try builder.append(.cleanupEnd(time: 1003 * ms, task: 2, result: .ok))
        try builder.append(.end(time: 1004 * ms, task: 2, outcome: .returned))
        try builder.append(.end(time: 1010 * ms, task: 1, outcome: .returned))
        try builder.close(time: 1010 * ms)
        return builder.sink.bytes
    }

    /// A root with `count` same-named workers, half of them cancelled.
    static func churn(count: Int) throws -> [UInt8] {
        var builder = TraceBuilder(sink: InMemoryTrace())
        let us: UInt64 = 1_000
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        let worker = builder.string("worker")
        for i in 0..<UInt64(count) {
            try builder.append(.spawn(time: i * us, task: i + 2, parent: 1, name: worker, how: .groupChild))
        }
        for i in 0..<UInt64(count) {
            let t = UInt64(count) * us + i * us
            if i % 2 == 0 {
                try builder.append(.cancel(time: t, task: i + 2, by: 1, reason: .explicit))
                try builder.append(.end(time: t + us / 2, task: i + 2, outcome: .cancelled))
            } else {
                try builder.append(.end(time: t, task: i + 2, outcome: .returned))
            }
        }
        try builder.append(.end(time: UInt64(count) * 3 * us, task: 1, outcome: .returned))
        try builder.close(time: UInt64(count) * 3 * us)
        return builder.sink.bytes
    }

    static func report(_ bytes: [UInt8], configuration: RuleConfiguration = RuleConfiguration()) throws -> AnalysisReport {
        try TraceAnalyzer(configuration: configuration).analyze(TraceReader(bytes: bytes), keepTasks: true)
    }
}
