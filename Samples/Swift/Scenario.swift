import TraceFormat
import TraceRecorder

/// The seed page's scenarios, correct and buggy, each a small program recorded with the `TraceRecorder` API.
///
/// Every scenario's top is `CancelTrace.withRootTask(name: "main")`, takes about 10–30 ms, and keeps cancel →
/// end latencies and cleanups far below the analyzer's default thresholds, so each triggers only the rule it
/// demonstrates (`expectedRules`; empty for the correct ones).
public enum Scenario: String, CaseIterable, Sendable {
    case cancelCleanupRethrow = "cancel-cleanup-rethrow"
    case swallowCatchAll = "swallow-catch-all"
    case swallowTrySleep = "swallow-try-sleep"
    case timeout = "timeout"
    case groupSiblingFailure = "group-sibling-failure"
    case shield = "shield"
    case convertError = "convert-error"
    case cancellerAwaits = "canceller-awaits"

    /// One line saying what the scenario shows.
    public var summary: String {
        switch self {
        case .cancelCleanupRethrow: "a cancelled task catches CancellationError, cleans up and rethrows (correct)"
        case .swallowCatchAll: "a catch-all block catches the cancellation and the task returns normally (bug)"
        case .swallowTrySleep: "`try? await Task.sleep` eats the cancellation and the loop runs on (bug)"
        case .timeout: "a timeout cancels its operation and the caller gets TimeoutError (correct)"
        case .groupSiblingFailure: "one group child throws and its siblings are cancelled (correct)"
        case .shield: "a shielded critical operation completes despite the caller's cancel (correct)"
        case .convertError: "a task catches its cancellation and throws a different error (bug)"
        case .cancellerAwaits: "a parent cancels a child and catches the child's CancellationError (correct)"
        }
    }

    /// The analyzer rule ids this scenario should trigger; empty when the code is correct.
    public var expectedRules: [String] {
        switch self {
        case .swallowCatchAll: ["swallowed-cancellation"]
        case .swallowTrySleep: ["completed-after-cancel"]
        case .convertError: ["cancellation-converted"]
        case .cancelCleanupRethrow, .timeout, .groupSiblingFailure, .shield, .cancellerAwaits: []
        }
    }

    /// Runs the scenario under the recorder that is already started.
    public func run() async throws {
        switch self {
        case .cancelCleanupRethrow: try await CancelCleanupRethrow.run()
        case .swallowCatchAll: try await SwallowCatchAll.run()
        case .swallowTrySleep: try await SwallowTrySleep.run()
        case .timeout: try await TimeoutScenario.run()
        case .groupSiblingFailure: try await GroupSiblingFailure.run()
        case .shield: try await ShieldScenario.run()
        case .convertError: try await ConvertError.run()
        case .cancellerAwaits: try await CancellerAwaits.run()
        }
    }

    /// Records the scenario into a new trace file at `path`: start, run, finish. Concurrent calls take turns.
    public func record(to path: String) async throws {
        try await CancelTrace.record(to: path) { try await run() }
    }

    /// Records the scenario and returns the trace file's bytes. Concurrent calls take turns.
    public func recordInMemory() async throws -> [UInt8] {
        try await CancelTrace.record(into: InMemoryTrace()) { try await run() }.bytes
    }
}
