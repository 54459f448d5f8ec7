import Testing
import TraceAnalysis
import TraceFormat

/// Issue 11 item 13: spawns that never end must not grow the analysis without bound.
@Suite struct LiveTaskCapTests {
    /// `count` spawns under main, none ending, then a cancel and a mark of a task never spawned.
    static func neverEnding(_ count: Int) throws -> [UInt8] {
        var builder = TraceBuilder(sink: InMemoryTrace())
        let name = builder.string("worker")
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        for i in 0..<UInt64(count) {
            try builder.append(.spawn(time: i, task: i + 2, parent: 1, name: name, how: .unstructured))
        }
        try builder.append(.cancel(time: UInt64(count), task: 999_999_999, by: 1, reason: .explicit))
        try builder.close(time: UInt64(count))
        return builder.sink.bytes
    }

    @Test func liveTasksPastTheCapAreCountedNotTracked() throws {
        var analyzer = TraceAnalyzer()
        analyzer.maxLiveTasks = 1_000
        let report = try analyzer.analyze(TraceReader(bytes: Self.neverEnding(5_000)), keepTasks: true)
        #expect(report.stats.peakLiveTasks == 1_000)
        #expect(report.tasks.count == 1_000)
        #expect(report.untrackedTasks == 4_002, "main and 999 workers are tracked: 4,001 spawns and the cancel of an unseen task are not")
        #expect(report.tasksWithoutSpawn == 0)
    }

    @Test func theDefaultCapHoldsAMillionLiveTasks() {
        #expect(TraceAnalyzer().maxLiveTasks == 1_000_000)
        #expect(TaskTracker().maxLiveTasks == 1_000_000)
    }
}
