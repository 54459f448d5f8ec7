import Histogram
import TraceFormat

/// Counts and cancel-latency percentiles over a whole trace, in memory that does not grow with its length.
public struct TraceStats: Sendable {
    public var events = 0
    public var tasks = 0
    /// Tasks by how they ended (kinds that never occurred are absent).
    public var outcomes: [Outcome: Int] { Self.dictionary(outcomeCounts) }
    /// Tasks that never ended.
    public var unended = 0
    /// Tasks by how they were started (kinds that never occurred are absent).
    public var spawnKinds: [SpawnKind: Int] { Self.dictionary(spawnKindCounts) }
    /// Cancel requests by reason (withdrawn ones included; reasons that never occurred are absent).
    public var cancelsByReason: [CancelReason: Int] { Self.dictionary(cancelReasonCounts) }
    public var withdrawnCancels = 0
    /// Tasks whose cancellation was caught by their own code / re-raised.
    public var tasksThatCaught = 0
    public var tasksThatRethrew = 0
    public var cleanups = 0
    public var peakLiveTasks = 0
    public var droppedEvents: UInt64 = 0
    /// Time from the effective cancel request to the task's end, in nanoseconds.
    public private(set) var cancelLatency = Histogram<UInt64>(highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)

    /// Counters indexed by the enums' raw values: counting a task is an array increment, not a hashed lookup.
    private var outcomeCounts = [Int](repeating: 0, count: 256)
    private var spawnKindCounts = [Int](repeating: 0, count: 256)
    private var cancelReasonCounts = [Int](repeating: 0, count: 256)

    public init() {}

    private static func dictionary<Key: WireEnum & Hashable>(_ counts: [Int]) -> [Key: Int] {
        var result: [Key: Int] = [:]
        for (raw, count) in counts.enumerated() where count > 0 {
            if let key = Key(rawValue: UInt8(raw)) { result[key] = count }
        }
        return result
    }

    mutating func add(_ task: TaskLifecycle) {
        tasks += 1
        if let end = task.end { outcomeCounts[Int(end.outcome.rawValue)] += 1 } else { unended += 1 }
        spawnKindCounts[Int(task.how.rawValue)] += 1
        for cancel in task.cancels {
            cancelReasonCounts[Int(cancel.reason.rawValue)] += 1
            if cancel.withdrawn { withdrawnCancels += 1 }
        }
        if task.catches.contains(where: \.whileCancelPending) { tasksThatCaught += 1 }
        if !task.rethrowTimes.isEmpty { tasksThatRethrew += 1 }
        cleanups += task.cleanups.count
        if let latency = task.cancelLatency { recordLatency(latency) }
    }

    /// The same counts as `add(task.lifecycle(…))`, for a task with no full lifecycle.
    mutating func add(_ task: CompactTask) {
        tasks += 1
        if task.hasEnd { outcomeCounts[Int(task.outcome.rawValue)] += 1 } else { unended += 1 }
        spawnKindCounts[Int(task.how.rawValue)] += 1
        guard !task.isQuiet || task.hasRethrow else { return }
        if task.hasCancel {
            cancelReasonCounts[Int(task.cancelReason.rawValue)] += 1
            if task.cancelWithdrawn { withdrawnCancels += 1 }
        }
        if task.hasCatch && task.catchWhileCancelPending { tasksThatCaught += 1 }
        if task.hasRethrow { tasksThatRethrew += 1 }
        if task.hasCleanup { cleanups += 1 }
        if let latency = task.cancelLatency { recordLatency(latency) }
    }

    private mutating func recordLatency(_ latency: UInt64) {
        _ = cancelLatency.record(min(latency, cancelLatency.highestTrackableValue))
    }

    /// Cancel latency at `percentile` (0–100), or nil when no cancelled task ended.
    public func cancelLatency(atPercentile percentile: Double) -> UInt64? {
        cancelLatency.totalCount == 0 ? nil : cancelLatency.valueAtPercentile(percentile)
    }

    public var cancelLatencyMax: UInt64? { cancelLatency.totalCount == 0 ? nil : cancelLatency.max }
    public var cancelLatencyCount: UInt64 { cancelLatency.totalCount }
}
