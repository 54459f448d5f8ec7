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
        Only a recorded catch counts here; without one (a program recorded by `canceltrace run`), see \
        `returned-after-cancellation-error`.
        """
    public let help = "rethrow the cancellation error after cleanup (`throw error` in Swift, bare `raise` in Python)"
    public let pythonHelp: String? = "re-raise the CancelledError after cleanup: a bare `raise` in the `except` block (or `except Exception:` instead of `except BaseException:` / bare `except:`)"

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        // The catch decides, not whether the cancel still stands at the end: asyncio.timeout withdraws its cancel
        // (uncancel) after the task's code has already swallowed it, and that is still a swallow.
        guard let end = task.end, end.outcome == .returned, let caught = task.ownCatches.last,
              !task.rethrewAfterLastOwnCatch,
              let cancel = task.cancels.last(where: { $0.time <= caught.time }) else { return [] }
        return [finding(task, in: context, time: end.time,
                        message: "\(label: task) caught \(caught.errorType.isEmpty ? "its cancellation" : caught.errorType) at \(seconds: caught.time) and returned normally at \(seconds: end.time)",
                        cancel: cancel)]
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        task.hasEnd && task.outcome == .returned && task.hasCatch && task.catchWhileCancelPending
    }
}
