import TraceFormat

/// Without a recorded catch: the cancellation error reached the task's code, and the task returned normally.
///
/// A warning, not an error: the catch is not in the trace, and on real code most such tasks return on purpose
/// (a watchdog whose sleep is cancelled, an error handed on to a consumer, a test turning it into a value). On
/// swift-service-lifecycle's suite 1 of 27 was a real swallow (Docs/Run.md). Where the code records its catch
/// (`caught()`), `swallowed-cancellation` says it at error level.
public struct ReturnedAfterCancellationError: Rule, PrefilteredRule {
    public let id = "returned-after-cancellation-error"
    public let defaultLevel = Level.warning
    public let summary = "CancellationError reached the task's code while cancelled, task then returned normally"
    public let explanation = """
        The trace has no catch (a program recorded by `canceltrace run`, which cannot see one), but it shows a \
        `CancellationError` coming back into the task's code from something it awaited (`Task.sleep`, \
        `Task.value`, a group's `next()`…) while the task was cancelled — a `received` signal — and nothing after \
        that looking at the flag; then the task returned normally. Either its code swallowed the cancellation \
        (`try?`, a catch-all) or it stops on purpose without saying so. Not reported when the cancel came from \
        the task's own subtree (it cancelled its own handle, or a task it started did) or when the task returns \
        Void and cannot throw (`Task<Void, Never>`, a `TaskGroup<Void>`/`DiscardingTaskGroup` child, marked by \
        `canceltrace run`): such a task has no way to end but returning, so the catch is its way to stop (a \
        watchdog whose sleep is cancelled) — unless the error reached it more than once, which means it went on \
        after the first (`try?` in a loop; errors collected from children through a group's `next()` or \
        `Task.value` do not count); `slow-cancellation` and `leaked-task` still report one that does \
        not stop.
        """
    public let help = "if the task should end cancelled, rethrow (`try`, not `try?`; `throw error` after cleanup); if it stops on purpose, check `Task.isCancelled` before returning or call `CancelTrace.stopping()` and the finding goes away"

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        guard let end = task.end, end.outcome == .returned, task.ownCatches.isEmpty,
              let signal = task.signals.last, signal.what == .received,
              let cancel = task.cancels.last(where: { $0.time <= signal.time }),
              task.returnIsOwnChoice(after: cancel) == nil else { return [] }
        let via = signal.via.isEmpty ? "" : " from \(signal.via)"
        return [finding(task, in: context, time: end.time,
                        message: "\(label: task) received CancellationError\(via) at \(seconds: signal.time) and returned normally at \(seconds: end.time)",
                        notes: ["the catch itself is not recorded: the error reached the task's code and the task did not end cancelled"],
                        cancel: cancel)]
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        task.hasEnd && task.outcome == .returned && task.hasSignal && task.hasCancel
    }
}
