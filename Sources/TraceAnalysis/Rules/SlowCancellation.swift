import TraceFormat

/// The task kept running longer than the threshold after cancel was requested.
public struct SlowCancellation: Rule, PrefilteredRule {
    public let id = "slow-cancellation"
    public let defaultLevel = Level.warning
    public let summary = "cancel requested, task still ran longer than a threshold"
    public let explanation = """
        Cancellation is cooperative: a task stops only where it checks. A task that runs on long after its cancel \
        request holds resources and delays shutdown. The threshold (default 100 ms) is set with \
        `--threshold slow-cancellation=DURATION`.
        """
    public let help = "check for cancellation inside long loops and before expensive steps (`try Task.checkCancellation()`)"
    public let pythonHelp: String? = "await something (`await asyncio.sleep(0)`) inside long CPU-bound loops so the cancellation can be delivered, and keep `except CancelledError:` handlers short"
    public let defaultThreshold: UInt64? = 100_000_000

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        let threshold = context.configuration.threshold(for: self)
        guard let latency = task.cancelLatency, let end = task.end, let cancel = task.effectiveCancel,
              latency > threshold else { return [] }
        return [finding(task, in: context, time: end.time,
                        message: "\(label: task) ended at \(seconds: end.time), \(duration: latency) after its cancel request at \(seconds: cancel.time), more than \(duration: threshold)",
                        cancel: cancel, magnitude: latency)]
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        task.cancelLatency.map { $0 > threshold } ?? false
    }
}
