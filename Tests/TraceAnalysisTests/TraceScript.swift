import TraceAnalysis
import TraceFormat

/// One line of a synthetic trace, written with names instead of string ids:
///
///     .spawn(3, "long_task", parent: 1, at: ms(0)),
///     .cancel(3, by: 1, .explicit, at: ms(1001)),
///     .caught(3, at: ms(1002)),
///     .end(3, .returned, at: ms(1004)),
///
/// `TraceScript` turns a list of steps into trace bytes through `TraceBuilder`, so every test also goes through
/// the encoder and the streaming reader, as a real trace does.
struct Step: Sendable {
    let time: UInt64
    let make: @Sendable (inout TraceBuilder<InMemoryTrace>) -> TraceEvent

    static func spawn(_ task: TaskID, _ name: String, parent: TaskID = 0, how: SpawnKind? = nil,
                      at time: UInt64) -> Step {
        Step(time: time) { builder in
            .spawn(time: time, task: task, parent: parent, name: builder.string(name),
                   how: how ?? (parent == 0 ? .root : .child))
        }
    }

    static func cancel(_ task: TaskID, by canceller: TaskID = 0, _ reason: CancelReason = .explicit,
                       message: String = "", at time: UInt64) -> Step {
        Step(time: time) { builder in
            .cancel(time: time, task: task, by: canceller, reason: reason, message: builder.string(message))
        }
    }

    static func uncancel(_ task: TaskID, at time: UInt64) -> Step {
        Step(time: time) { _ in .uncancel(time: time, task: task) }
    }

    static func caught(_ task: TaskID, _ error: String = "CancellationError", at time: UInt64) -> Step {
        Step(time: time) { builder in .caught(time: time, task: task, error: builder.string(error)) }
    }

    static func cleanupBegin(_ task: TaskID, at time: UInt64) -> Step {
        Step(time: time) { _ in .cleanupBegin(time: time, task: task) }
    }

    static func cleanupEnd(_ task: TaskID, _ result: CleanupResult = .ok, error: String = "", at time: UInt64) -> Step {
        Step(time: time) { builder in .cleanupEnd(time: time, task: task, result: result, error: builder.string(error)) }
    }

    static func rethrow(_ task: TaskID, at time: UInt64) -> Step {
        Step(time: time) { _ in .rethrow(time: time, task: task) }
    }

    /// The end of `task`. A cancelled end without an error type records `CancellationError`, as the recorder does.
    static func end(_ task: TaskID, _ outcome: Outcome, error: String? = nil, at time: UInt64) -> Step {
        let error = error ?? (outcome == .cancelled ? "CancellationError" : "")
        return Step(time: time) { builder in .end(time: time, task: task, outcome: outcome, error: builder.string(error)) }
    }

    static func dropped(_ count: UInt64, at time: UInt64) -> Step {
        Step(time: time) { _ in .dropped(time: time, count: count) }
    }

    static func mark(_ task: TaskID, _ label: String, at time: UInt64) -> Step {
        Step(time: time) { builder in .mark(time: time, task: task, label: builder.string(label)) }
    }

    static func site(_ task: TaskID, _ location: String, at time: UInt64) -> Step {
        Step(time: time) { builder in .site(time: time, task: task, location: builder.string(location)) }
    }

    static func signal(_ task: TaskID, _ what: CancellationSignal, via: String = "", at time: UInt64) -> Step {
        Step(time: time) { builder in .signal(time: time, task: task, what: what, via: builder.string(via)) }
    }
}

/// Milliseconds, as trace nanoseconds.
func ms(_ value: Double) -> UInt64 { UInt64((value * 1_000_000).rounded()) }

enum TraceScript {
    /// The trace file `steps` describe. A closed trace ends with `close` 1 ms after the last step.
    static func bytes(_ steps: [Step], closed: Bool = true, chunkSize: Int = TraceLayout.defaultChunkRawLength) throws -> [UInt8] {
        precondition(zip(steps, steps.dropFirst()).allSatisfy { $0.time <= $1.time },
                     "steps must be in time order: the encoder raises earlier times to the previous one")
        var builder = TraceBuilder(sink: InMemoryTrace(), chunkSize: chunkSize)
        try builder.info([(TraceInfo.Key.runtime, "swift")])
        for step in steps { try builder.append(step.make(&builder)) }
        if closed {
            try builder.close(time: (steps.map(\.time).max() ?? 0) + ms(1))
        } else {
            try builder.flush()
        }
        return builder.sink.bytes
    }

    /// Writes `steps` as a trace, reads it back and analyzes it.
    static func analyze(_ steps: [Step], closed: Bool = true, configuration: RuleConfiguration = RuleConfiguration(),
                        rules: [any Rule] = Rules.all, keepTasks: Bool = false) throws -> AnalysisReport {
        let reader = try TraceReader(bytes: bytes(steps, closed: closed))
        return try TraceAnalyzer(configuration: configuration, rules: rules).analyze(reader, keepTasks: keepTasks)
    }

    /// Writes `steps` as a trace, reads it back and feeds every event to a fresh tracker.
    /// Returns the tracker and the tasks it handed back as they ended, then the ones still alive.
    static func track(_ steps: [Step], closed: Bool = true) throws -> (tracker: TaskTracker, ended: [TaskLifecycle], unended: [TaskLifecycle]) {
        let reader = try TraceReader(bytes: bytes(steps, closed: closed))
        var tracker = TaskTracker()
        var ended: [TaskLifecycle] = []
        while let event = try reader.next() {
            if let task = tracker.consume(event, strings: reader.strings) { ended.append(task) }
        }
        let unended = tracker.finish()
        return (tracker, ended, unended)
    }
}

extension AnalysisReport {
    /// The rule ids of the findings, in report order.
    var ruleIDs: [String] { findings.map(\.rule) }

    /// The findings about `task`.
    func findings(for task: TaskID) -> [Finding] { findings.filter { $0.task == task } }
}

/// A configuration with the given levels (`nil` turns a rule off) and thresholds.
func configuration(levels: [String: Level?] = [:], thresholds: [String: UInt64] = [:]) -> RuleConfiguration {
    var configuration = RuleConfiguration()
    configuration.levels = levels
    configuration.thresholds = thresholds
    return configuration
}

/// `steps` run inside the root task "main" (#1), which starts at 0 and returns 10 ms after the last of them.
func underMain(_ steps: [Step]) -> [Step] {
    let last = steps.map(\.time).max() ?? 0
    return [.spawn(1, "main", at: 0)] + steps + [.end(1, .returned, at: last + ms(10))]
}

/// The level that turns a rule off in `RuleConfiguration.levels`.
let off: Level? = nil
