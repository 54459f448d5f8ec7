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

    /// Counters indexed by the enums' raw values: counting a task is an add in place, not a hashed lookup.
    private var outcomeCounts = Counters()
    private var spawnKindCounts = Counters()
    private var cancelReasonCounts = Counters()

    public init() {}

    private static func dictionary<Key: WireEnum & Hashable>(_ counts: Counters) -> [Key: Int] {
        var result: [Key: Int] = [:]
        for raw in 0..<Counters.count where counts[raw] > 0 {
            if let key = Key(rawValue: UInt8(raw)) { result[key] = counts[raw] }
        }
        return result
    }

    /// One counter per raw value of a small `WireEnum` (every one has fewer than `count` cases; a test checks),
    /// stored in the struct itself: an increment is one add, with no array uniqueness or bounds check.
    struct Counters: Sendable {
        static let count = 8
        private var storage: (Int, Int, Int, Int, Int, Int, Int, Int) = (0, 0, 0, 0, 0, 0, 0, 0)

        /// The counter of raw value `raw` (taken modulo `count`).
        subscript(raw: Int) -> Int {
            get { withUnsafeBytes(of: storage) { $0.load(fromByteOffset: (raw & 7) * 8, as: Int.self) } }
        }

        @inline(__always)
        mutating func increment(_ raw: UInt8) {
            withUnsafeMutableBytes(of: &storage) { bytes in
                let offset = Int(raw & 7) * MemoryLayout<Int>.stride
                bytes.storeBytes(of: bytes.load(fromByteOffset: offset, as: Int.self) &+ 1, toByteOffset: offset, as: Int.self)
            }
        }
    }

    mutating func add(_ task: TaskLifecycle) {
        tasks += 1
        if let end = task.end { outcomeCounts.increment(end.outcome.rawValue) } else { unended += 1 }
        spawnKindCounts.increment(task.how.rawValue)
        for cancel in task.cancels {
            cancelReasonCounts.increment(cancel.reason.rawValue)
            if cancel.withdrawn { withdrawnCancels += 1 }
        }
        if task.catches.contains(where: \.whileCancelPending) { tasksThatCaught += 1 }
        if !task.rethrowTimes.isEmpty { tasksThatRethrew += 1 }
        cleanups += task.cleanups.count
        if let latency = task.cancelLatency { recordLatency(latency) }
    }

    /// The same counts as `add(task.lifecycle(…))`, for a task with no full lifecycle, read in its slot.
    @inline(__always)
    mutating func add(_ task: UnsafePointer<CompactTask>) {
        tasks &+= 1
        if task.pointee.hasEnd { outcomeCounts.increment(task.pointee.outcome.rawValue) } else { unended &+= 1 }
        spawnKindCounts.increment(task.pointee.how.rawValue)
        guard !task.pointee.isQuiet || task.pointee.hasRethrow else { return }
        addDetails(task)
    }

    /// The rest of `add(_:)`, for a task with a cancel, catch, cleanup or rethrow.
    private mutating func addDetails(_ task: UnsafePointer<CompactTask>) {
        if task.pointee.hasCancel {
            cancelReasonCounts.increment(task.pointee.cancelReason.rawValue)
            if task.pointee.cancelWithdrawn { withdrawnCancels &+= 1 }
        }
        if task.pointee.hasCatch && task.pointee.catchWhileCancelPending { tasksThatCaught &+= 1 }
        if task.pointee.hasRethrow { tasksThatRethrew &+= 1 }
        if task.pointee.hasCleanup { cleanups &+= 1 }
        if let latency = task.pointee.cancelLatency { recordLatency(latency) }
    }

    @inline(__always)
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
