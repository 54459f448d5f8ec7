import TraceFormat

/// The task caught its own cancellation and ended with a different error.
public struct CancellationConverted: Rule, PrefilteredRule {
    public let id = "cancellation-converted"
    public let defaultLevel = Level.warning
    public let summary = "cancellation caught, task ended with a different error"
    public let explanation = """
        The task caught its own cancellation and then failed with another error. Callers that treat cancellation \
        specially (task groups, shutdown code, `asyncio.wait_for`) now see a failure instead. A timeout that turns \
        its own cancel into a timeout error is legitimate and not reported: the recorder withdraws that cancel \
        (`uncancel`), and a cancel with reason `timeout` that ends in an error whose type names a timeout is excepted.
        """
    public let help = "let the cancellation error propagate; if another error must be raised, raise it only when the task was not cancelled"

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        guard let end = task.end, end.outcome == .failed, let cancel = task.effectiveCancel,
              let caught = task.catchesOfEffectiveCancel.last else { return [] }
        if cancel.reason == .timeout && end.errorType.lowercased().contains("timeout") { return [] }
        let error = end.errorType.isEmpty ? "another error" : end.errorType
        return [finding(task, in: context, time: end.time,
                        message: "\(label: task) caught \(caught.errorType.isEmpty ? "its cancellation" : caught.errorType) at \(seconds: caught.time) and ended with \(error) at \(seconds: end.time)",
                        cancel: cancel)]
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        task.hasEnd && task.outcome == .failed && task.hasEffectiveCancel && task.hasCatch
    }
}
