/// Identifies a task within one trace. 0 is never a task: fields use it for "none".
public typealias TaskID = UInt64

/// Identifies a string in the trace's string table. 0 is the empty string ("none").
public typealias StringID = UInt64

/// One decoded record: its kind, its time and up to four fields in the order `EventKind.spec` declares.
///
/// A flat value with no references, so that decoding tens of millions of events allocates nothing.
/// Use the kind-specific constructors and accessors; `fields` is the raw view the codec works on.
public struct TraceEvent: Hashable, Sendable {
    public var kind: EventKind
    /// Nanoseconds since the trace started, on the recorder's monotonic clock.
    public var time: UInt64
    public var fields: (UInt64, UInt64, UInt64, UInt64)

    public init(kind: EventKind, time: UInt64, fields: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)) {
        self.kind = kind
        self.time = time
        self.fields = fields
    }

    public static func == (lhs: TraceEvent, rhs: TraceEvent) -> Bool {
        lhs.kind == rhs.kind && lhs.time == rhs.time && lhs.fields == rhs.fields
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(time)
        hasher.combine(fields.0)
        hasher.combine(fields.1)
        hasher.combine(fields.2)
        hasher.combine(fields.3)
    }

    /// Field `index` (0-based, in spec order).
    @inlinable
    public subscript(field index: Int) -> UInt64 {
        switch index {
        case 0: fields.0
        case 1: fields.1
        case 2: fields.2
        default: fields.3
        }
    }

    // MARK: Constructors, one per kind

    public static func info(time: UInt64, key: StringID, value: StringID) -> TraceEvent {
        TraceEvent(kind: .info, time: time, fields: (key, value, 0, 0))
    }
    public static func close(time: UInt64) -> TraceEvent {
        TraceEvent(kind: .close, time: time)
    }
    public static func spawn(time: UInt64, task: TaskID, parent: TaskID, name: StringID, how: SpawnKind) -> TraceEvent {
        TraceEvent(kind: .spawn, time: time, fields: (task, parent, name, UInt64(how.rawValue)))
    }
    public static func cancel(time: UInt64, task: TaskID, by: TaskID, reason: CancelReason, message: StringID = 0) -> TraceEvent {
        TraceEvent(kind: .cancel, time: time, fields: (task, by, UInt64(reason.rawValue), message))
    }
    public static func caught(time: UInt64, task: TaskID, error: StringID) -> TraceEvent {
        TraceEvent(kind: .caught, time: time, fields: (task, error, 0, 0))
    }
    public static func cleanupBegin(time: UInt64, task: TaskID) -> TraceEvent {
        TraceEvent(kind: .cleanupBegin, time: time, fields: (task, 0, 0, 0))
    }
    public static func cleanupEnd(time: UInt64, task: TaskID, result: CleanupResult, error: StringID = 0) -> TraceEvent {
        TraceEvent(kind: .cleanupEnd, time: time, fields: (task, UInt64(result.rawValue), error, 0))
    }
    public static func rethrow(time: UInt64, task: TaskID) -> TraceEvent {
        TraceEvent(kind: .rethrow, time: time, fields: (task, 0, 0, 0))
    }
    public static func end(time: UInt64, task: TaskID, outcome: Outcome, error: StringID = 0) -> TraceEvent {
        TraceEvent(kind: .end, time: time, fields: (task, UInt64(outcome.rawValue), error, 0))
    }
    public static func uncancel(time: UInt64, task: TaskID) -> TraceEvent {
        TraceEvent(kind: .uncancel, time: time, fields: (task, 0, 0, 0))
    }
    public static func dropped(time: UInt64, count: UInt64) -> TraceEvent {
        TraceEvent(kind: .dropped, time: time, fields: (count, 0, 0, 0))
    }
    public static func mark(time: UInt64, task: TaskID, label: StringID) -> TraceEvent {
        TraceEvent(kind: .mark, time: time, fields: (task, label, 0, 0))
    }

    public static func site(time: UInt64, task: TaskID, location: StringID) -> TraceEvent {
        TraceEvent(kind: .site, time: time, fields: (task, location, 0, 0))
    }
    public static func signal(time: UInt64, task: TaskID, what: CancellationSignal, via: StringID = 0) -> TraceEvent {
        TraceEvent(kind: .signal, time: time, fields: (task, UInt64(what.rawValue), via, 0))
    }

    // MARK: Accessors. Each is meaningful only for the kinds named; inlinable, as the analyzer reads them per event.

    /// The task the event is about (spawn, cancel, caught, cleanup-*, rethrow, end, uncancel, mark, site, signal); 0 otherwise.
    @inlinable @inline(__always)
    public var task: TaskID {
        switch kind {
        case .info, .string, .close, .dropped: 0
        default: fields.0
        }
    }
    /// spawn: the parent task, or 0.
    @inlinable @inline(__always)
    public var parent: TaskID { fields.1 }
    /// spawn: the task's name.
    @inlinable @inline(__always)
    public var name: StringID { fields.2 }
    /// spawn: how the task was started. Unknown values read as `.unstructured`.
    @inlinable @inline(__always)
    public var spawnKind: SpawnKind { SpawnKind(rawValue: UInt8(truncatingIfNeeded: fields.3)) ?? .fallback }
    /// cancel: the task that asked, or 0.
    @inlinable @inline(__always)
    public var canceller: TaskID { fields.1 }
    /// cancel: why. Unknown values read as `.unknown`.
    @inlinable @inline(__always)
    public var cancelReason: CancelReason { CancelReason(rawValue: UInt8(truncatingIfNeeded: fields.2)) ?? .fallback }
    /// cancel: the message, or 0.
    @inlinable @inline(__always)
    public var message: StringID { fields.3 }
    /// caught / cleanup-end / end: the error type, or 0.
    @inlinable @inline(__always)
    public var errorType: StringID {
        switch kind {
        case .caught: fields.1
        case .cleanupEnd, .end: fields.2
        default: 0
        }
    }
    /// cleanup-end: ok or threw. Unknown values read as `.threw`.
    @inlinable @inline(__always)
    public var cleanupResult: CleanupResult { CleanupResult(rawValue: UInt8(truncatingIfNeeded: fields.1)) ?? .fallback }
    /// end: how the task ended. Unknown values read as `.failed`.
    @inlinable @inline(__always)
    public var outcome: Outcome { Outcome(rawValue: UInt8(truncatingIfNeeded: fields.1)) ?? .fallback }
    /// dropped: how many events were lost.
    @inlinable @inline(__always)
    public var droppedCount: UInt64 { fields.0 }
    /// site: where the task was created.
    @inlinable @inline(__always)
    public var location: StringID { fields.1 }
    /// signal: how the code met its cancellation. Unknown values read as `.flag`, the weakest claim.
    @inlinable @inline(__always)
    public var signalKind: CancellationSignal { CancellationSignal(rawValue: UInt8(truncatingIfNeeded: fields.1)) ?? .fallback }
    /// signal: the API that showed it, or 0.
    @inlinable @inline(__always)
    public var via: StringID { fields.2 }
    /// mark: the label. info: the value.
    @inlinable @inline(__always)
    public var label: StringID { fields.1 }
    /// info: the key.
    @inlinable @inline(__always)
    public var infoKey: StringID { fields.0 }
    /// info: the value.
    @inlinable @inline(__always)
    public var infoValue: StringID { fields.1 }
}
