import TraceFormat

/// Cleanup after a cancellation threw.
public struct CleanupFailed: Rule, PrefilteredRule {
    public let id = "cleanup-failed"
    public let defaultLevel = Level.warning
    public let summary = "cleanup after a cancellation threw"
    public let explanation = """
        The task's cleanup threw. Whatever it was releasing may still be held, and the error it threw can replace \
        the cancellation on its way up.
        """
    public let help = "make cleanup not throw, or catch and log its error, then rethrow the cancellation"
    public let pythonHelp: String? = "make cleanup not raise (or catch and log its error), then re-raise the CancelledError with a bare `raise`"

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        task.cleanups.compactMap { cleanup in
            guard cleanup.result == .threw, let end = cleanup.end else { return nil }
            let error = cleanup.errorType.isEmpty ? "an error" : cleanup.errorType
            return finding(task, in: context, time: end,
                           message: "cleanup in \(label: task) threw \(error) at \(seconds: end)",
                           cancel: task.effectiveCancel)
        }
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        task.hasCleanup && task.cleanupEnded && task.cleanupResult == .threw
    }
}
