import TraceFormat

/// The task caught its own cancellation, did not re-raise it, and returned as if it had finished its work.
public struct SwallowedCancellation: Rule, PrefilteredRule {
    public let id = "swallowed-cancellation"
    public let defaultLevel = Level.error
    public let summary = "cancellation caught, not rethrown, task then returned normally"
    public let explanation = """
        The task was asked to cancel, its code caught the cancellation error (a catch-all, `catch is \
        CancellationError`, Python's bare `except:` or `except BaseException`) and did not re-raise it, and the \
        task then returned normally. To whoever awaits it, the task looks finished instead of cancelled: graceful \
        shutdown waits on work that should have stopped, timeouts and task groups lose their cancellation. \
        Without a recorded catch (a program recorded by `canceltrace run`), the rule reports a task that \
        received the cancellation error from something it awaited while cancelled (a `received` signal), did \
        not look at its flag after that, and returned normally.
        """
    public let help = "rethrow the cancellation error after cleanup (`throw error` in Swift, bare `raise` in Python)"

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        guard let end = task.end, end.outcome == .returned else { return [] }
        // The catch decides, not whether the cancel still stands at the end: asyncio.timeout withdraws its cancel
        // (uncancel) after the task's code has already swallowed it, and that is still a swallow.
        if let caught = task.ownCatches.last, !task.rethrewAfterLastOwnCatch,
           let cancel = task.cancels.last(where: { $0.time <= caught.time }) {
            return [finding(task, in: context, time: end.time,
                            message: "\(label: task) caught \(caught.errorType.isEmpty ? "its cancellation" : caught.errorType) at \(seconds: caught.time) and returned normally at \(seconds: end.time)",
                            cancel: cancel)]
        }
        // Without a recorded catch (`canceltrace run`): the error reached the task's code while it was cancelled,
        // nothing after that looked at the flag, and the task returned normally.
        if task.ownCatches.isEmpty, let signal = task.signals.last, signal.what == .received,
           let cancel = task.cancels.last(where: { $0.time <= signal.time }) {
            let via = signal.via.isEmpty ? "" : " from \(signal.via)"
            return [finding(task, in: context, time: end.time,
                            message: "\(label: task) received CancellationError\(via) at \(seconds: signal.time) and returned normally at \(seconds: end.time)",
                            notes: ["the catch itself is not recorded: the error reached the task's code and the task did not end cancelled"],
                            cancel: cancel)]
        }
        return []
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        task.hasEnd && task.outcome == .returned
            && ((task.hasCatch && task.catchWhileCancelPending) || (task.hasSignal && task.signalWhat == .received && task.hasCancel))
    }
}
