import TraceAnalysis

/// One static rule: its stable id, default level and the words every output shows.
///
/// The table is data: Docs/Lint.md, `canceltrace lint --list-rules` and the SARIF rule descriptors come from it.
public struct LintRule: Sendable, Hashable {
    public let id: String
    public let defaultLevel: Level
    public let summary: String
    public let help: String

    public static let tryOptionalCancellable = LintRule(
        id: "try-optional-cancellable",
        defaultLevel: .error,
        summary: "`try?` drops the CancellationError of a call that throws on cancellation, and the task goes on",
        help: "use `try await` and let the error propagate, or check `Task.isCancelled` right after and stop"
    )
    public static let catchSwallowsCancellation = LintRule(
        id: "catch-swallows-cancellation",
        defaultLevel: .warning,
        summary: "a catch that can catch CancellationError around an await neither rethrows nor checks for cancellation",
        help: "rethrow after cleanup (`throw error`), or handle `catch is CancellationError` first and rethrow it"
    )
    public static let cancellationIntoValue = LintRule(
        id: "cancellation-into-value",
        defaultLevel: .warning,
        summary: "cancellation packed into a value: a Result or a `?? default` in place of the CancellationError",
        help: "let CancellationError propagate (`catch is CancellationError { throw … }` first), or check `Task.isCancelled`"
    )
    public static let catchConvertsCancellation = LintRule(
        id: "catch-converts-cancellation",
        defaultLevel: .warning,
        summary: "a catch that can catch CancellationError throws a different error in its place",
        help: "rethrow CancellationError unchanged (`catch let error as CancellationError { throw error }` first)"
    )
    public static let taskCallsSwallowingHelper = LintRule(
        id: "task-calls-swallowing-helper",
        defaultLevel: .warning,
        summary: "a task's closure calls a function of the same module whose catch swallows cancellation",
        help: "fix the helper's catch (see the note), or check `Task.isCancelled` after the call"
    )

    /// Every rule, in the order the docs list them.
    public static let all: [LintRule] = [
        tryOptionalCancellable, catchSwallowsCancellation, cancellationIntoValue, catchConvertsCancellation,
        taskCallsSwallowingHelper,
    ]

    public static func named(_ id: String) -> LintRule? { all.first { $0.id == id } }
}
