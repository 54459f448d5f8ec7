import TraceFormat

/// Cleanup took longer than the threshold.
public struct SlowCleanup: Rule, PrefilteredRule {
    public let id = "slow-cleanup"
    public let defaultLevel = Level.warning
    public let summary = "cleanup took longer than a threshold"
    public let explanation = """
        Cleanup runs while the caller waits for the cancellation to complete. Slow cleanup delays shutdown and \
        timeouts. The threshold (default 100 ms) is set with `--threshold slow-cleanup=DURATION`.
        """
    public let help = "bound cleanup with its own timeout, or move slow work out of the cancellation path"
    public let pythonHelp: String? = "bound cleanup with its own timeout (`asyncio.timeout`, shielded if it must finish) or move slow work out of the cancellation path"
    public let defaultThreshold: UInt64? = 100_000_000

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        let threshold = context.configuration.threshold(for: self)
        return task.cleanups.compactMap { cleanup in
            guard let duration = cleanup.duration, let end = cleanup.end, duration > threshold else { return nil }
            return finding(task, in: context, time: end,
                           message: "cleanup in \(label: task) took \(duration: duration) (\(seconds: cleanup.begin) to \(seconds: end)), more than \(duration: threshold)",
                           cancel: task.effectiveCancel, magnitude: duration)
        }
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        task.cleanupDuration.map { $0 > threshold } ?? false
    }
}
