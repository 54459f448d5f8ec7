import TraceFormat

/// Cancel was requested and the task then failed with another error, with nothing recorded about how.
///
/// `cancellation-converted` reports the same end when the trace shows the cancellation reaching the task's code
/// (a catch, or a `received` signal); this rule reports what is left, as what it is, at a level of its own.
public struct FailedAfterCancel: Rule, PrefilteredRule {
    public let id = "failed-after-cancel"
    public let defaultLevel = Level.note
    public let summary = "cancel requested, task then failed with another error (no catch recorded)"
    public let explanation = """
        The task was asked to cancel and then failed with an error other than a cancellation error, and the trace \
        records no catch of the cancellation and no `received` signal (either would make it \
        `cancellation-converted`). The failure may come from the cancellation — an API that reports a cancel as an \
        error of its own (`URLError.cancelled`, a library's `.cancelled` case), or a catch the code did not record \
        — or it may be unrelated; the trace cannot tell which, so the rule is a note by default. Either way, \
        whoever awaits the task sees a failure, not a cancellation. Raise it (`--level failed-after-cancel=warning`) \
        where every such failure should be looked at. A cancel with reason `timeout` that ends in an error whose \
        type names a timeout is excepted, as for `cancellation-converted`.
        """
    public let help = "if the failure comes from the cancellation, let CancellationError propagate (or throw it when `Task.isCancelled`); record the catch with `CancelTrace.caught()` so the trace shows it"

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        guard let end = task.end, end.outcome == .failed, let cancel = task.effectiveCancel,
              task.catchesOfEffectiveCancel.isEmpty,
              task.lastSignalOfEffectiveCancel?.what != .received else { return [] }
        if cancel.reason == .timeout && CancellationConverted.namesATimeout(end.errorType) { return [] }
        let error = end.errorType.isEmpty ? "another error" : end.errorType
        return [finding(task, in: context, time: end.time,
                        message: "\(label: task) was cancelled at \(seconds: cancel.time), then failed with \(error) at \(seconds: end.time)",
                        cancel: cancel)]
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        task.hasEnd && task.outcome == .failed && task.hasEffectiveCancel
    }
}
