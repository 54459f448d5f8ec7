import Histogram
import TraceFormat

/// Counts and cancel-latency percentiles over a whole trace, in memory that does not grow with its length.
public struct TraceStats: Sendable {
    public var events = 0
    public var tasks = 0
    public var outcomes: [Outcome: Int] = [:]
    /// Tasks that never ended.
    public var unended = 0
    public var spawnKinds: [SpawnKind: Int] = [:]
    /// Cancel requests by reason (withdrawn ones included).
    public var cancelsByReason: [CancelReason: Int] = [:]
    public var withdrawnCancels = 0
    /// Tasks whose cancellation was caught by their own code / re-raised.
    public var tasksThatCaught = 0
    public var tasksThatRethrew = 0
    public var cleanups = 0
    public var peakLiveTasks = 0
    public var droppedEvents: UInt64 = 0
    /// Time from the effective cancel request to the task's end, in nanoseconds.
    public private(set) var cancelLatency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)

    public init() {}

    mutating func add(_ task: TaskLifecycle) {
        tasks += 1
        if let end = task.end { outcomes[end.outcome, default: 0] += 1 } else { unended += 1 }
        spawnKinds[task.how, default: 0] += 1
        for cancel in task.cancels {
            cancelsByReason[cancel.reason, default: 0] += 1
            if cancel.withdrawn { withdrawnCancels += 1 }
        }
        if task.catches.contains(where: \.whileCancelPending) { tasksThatCaught += 1 }
        if !task.rethrowTimes.isEmpty { tasksThatRethrew += 1 }
        cleanups += task.cleanups.count
        if let latency = task.cancelLatency {
            _ = cancelLatency.record(min(latency, cancelLatency.highestTrackableValue))
        }
    }

    /// Cancel latency at `percentile` (0–100), or nil when no cancelled task ended.
    public func cancelLatency(atPercentile percentile: Double) -> UInt64? {
        cancelLatency.totalCount == 0 ? nil : cancelLatency.valueAtPercentile(percentile)
    }

    public var cancelLatencyMax: UInt64? { cancelLatency.totalCount == 0 ? nil : cancelLatency.max }
    public var cancelLatencyCount: UInt64 { cancelLatency.totalCount }
}
