import TraceFormat

/// Cancel was requested and the task returned normally without any recorded sign that it saw it.
public struct CompletedAfterCancel: Rule, PrefilteredRule {
    public let id = "completed-after-cancel"
    public let defaultLevel = Level.warning
    public let summary = "cancel requested, task returned normally without any sign it saw it"
    public let explanation = """
        The task was asked to cancel and later returned normally, and nothing in the trace shows its code \
        noticing: no catch, no rethrow. The usual cause in Swift is `try? await Task.sleep(…)` (or any `try?` \
        around a throwing async call) in a loop, which turns the CancellationError into nil and keeps going; or \
        work that never checks `Task.isCancelled`. A task that shows it stopped on purpose after the cancel — a \
        `signal` record: it saw its flag (`Task.isCancelled`, `checkCancellation()`), or called \
        `CancelTrace.stopping()` — is not reported, nor is one whose cancel its own code started (it cancelled \
        its own handle, or a task it started cancelled it, possibly through its parent) or one that returns Void \
        and cannot throw (`Task<Void, Never>`, a `TaskGroup<Void>`/`DiscardingTaskGroup` child, marked `returns \
        Void, cannot throw` by `canceltrace run`): returning is such a task's only way to stop, and \
        `slow-cancellation` and `leaked-task` still report one that does not stop. Without a catch or a signal, the trace cannot tell apart the \
        three ways to get here: the error was dropped (`try?`, a catch-all or a `Result` wrapper whose catch was \
        not recorded), the code never looked at the cancellation, or it returned early on purpose. Recording \
        what happened makes the finding exact: `CancelTrace.caught()` in the catch turns a dropped error into \
        `swallowed-cancellation`; `CancelTrace.stopping()` on a deliberate early return (or after a `for await` \
        loop that ended on the cancel) removes the finding; a task still reported then never looked.
        """
    public let help = "nothing shows the task saw the cancel: if a `try?` or a catch dropped the CancellationError, let it propagate; if it returned early on purpose, call `CancelTrace.stopping()` there; otherwise check `Task.isCancelled` and stop"
    public let pythonHelp: String? = "nothing shows the task saw the cancel: a `try`/`except` higher up may have dropped the CancelledError (re-raise it), or the coroutine never awaited after the cancel; await regularly in long loops and let CancelledError propagate"

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        // A signal after the cancel decides instead: `flag`/`stopped` is a deliberate stop (no finding), and
        // `received` is `swallowed-cancellation`'s.
        guard let end = task.end, end.outcome == .returned, let cancel = task.effectiveCancel,
              !task.catches.contains(where: { $0.time >= cancel.time }),
              task.lastSignalOfEffectiveCancel == nil, task.returnIsOwnChoice(after: cancel) == nil else { return [] }
        return [finding(task, in: context, time: end.time,
                        message: "\(label: task) was cancelled at \(seconds: cancel.time) and returned normally at \(seconds: end.time) with no sign it saw the cancellation",
                        cancel: cancel)]
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        task.hasEnd && task.outcome == .returned && task.hasEffectiveCancel
    }
}
