/// Every record kind of trace format v1, declared once.
///
/// The encoder, the decoder, the `events` listing and the table in `Docs/TraceFormat.md` all work from
/// `EventKind.spec`; a test checks that the document lists every kind with its fields.
public enum EventKind: UInt8, CaseIterable, Sendable {
    /// One metadata item (key, value); written first in a trace.
    case info = 0x01
    /// Defines string `id` for all later chunks. Decoded into the reader's string table, never yielded as an event.
    case string = 0x02
    /// The recorder finished cleanly. A trace without it was cut short.
    case close = 0x03
    case spawn = 0x10
    case cancel = 0x11
    case caught = 0x12
    case cleanupBegin = 0x13
    case cleanupEnd = 0x14
    case rethrow = 0x15
    case end = 0x16
    case uncancel = 0x17
    case dropped = 0x18
    case mark = 0x19
    /// Format 1.1, extension range: where a task was created.
    case site = 0x80
    /// Format 1.1, extension range: the task's code met its cancellation (saw the flag, received the error, stopped).
    case signal = 0x81

    /// First kind of the extension range: records there carry a byte length so older readers can skip them.
    public static let firstExtensionKind: UInt8 = 0x80

    /// The kind's schema: its name in listings and docs, and its fields in wire order after the time delta.
    public var spec: KindSpec { KindSpec.table[Int(rawValue)]! }

    /// Whether records of this kind carry a byte length (kinds from 0x80 on), so that older readers skip them.
    @inlinable
    public var isExtension: Bool { rawValue >= Self.firstExtensionKind }
}

/// The type of one field on the wire. Every field is an unsigned LEB128 varint except `bytes`.
public enum FieldType: String, Sendable {
    /// A task id; 0 means "none".
    case task
    /// A plain unsigned integer.
    case uint
    /// An id into the string table; 0 means "none" (the empty string).
    case string
    /// A small enumeration; the field's doc lists its values.
    case enumeration = "enum"
    /// A varint length followed by that many bytes (only in `string` records).
    case bytes
}

public struct FieldSpec: Sendable {
    public let name: String
    public let type: FieldType
    public let doc: String
    /// For enumerations: the label of each value, indexed by value.
    public let values: [String]
    /// For enumerations: the value every reader reads in place of one it does not know (from a newer writer).
    public let fallback: UInt8?

    init(name: String, type: FieldType, doc: String) {
        self.name = name
        self.type = type
        self.doc = doc
        self.values = []
        self.fallback = nil
    }

    init<E: WireEnum>(name: String, enumeration: E.Type) {
        self.name = name
        self.type = .enumeration
        self.doc = E.valuesDoc
        self.values = E.allCases.sorted { $0.rawValue < $1.rawValue }.map(\.label)
        self.fallback = E.fallback.rawValue
    }

    /// The label of enumeration value `value`. An unknown value reads as the field's fallback, as every reader
    /// reads it, followed by the number itself so that a listing hides nothing: `failed (7)`.
    public func label(of value: UInt64) -> String {
        if value < UInt64(values.count) { return values[Int(value)] }
        guard let fallback else { return String(value) }
        return "\(values[Int(fallback)]) (\(value))"
    }
}

public struct KindSpec: Sendable {
    public let kind: EventKind
    public let name: String
    /// Whether the record starts with a time delta. Only `string` records do not.
    public let timed: Bool
    public let fields: [FieldSpec]
    public let doc: String

    /// Indexed by raw kind value, so that decoding is one array load.
    static let table: [KindSpec?] = {
        var table = [KindSpec?](repeating: nil, count: 256)
        for spec in all { table[Int(spec.kind.rawValue)] = spec }
        return table
    }()

    /// The kinds in declaration order.
    public static let all: [KindSpec] = [
        KindSpec(kind: .info, name: "info", timed: true, fields: [
            FieldSpec(name: "key", type: .string, doc: "metadata key, see TraceInfo"),
            FieldSpec(name: "value", type: .string, doc: "metadata value, as text"),
        ], doc: "One metadata item: runtime, recorder, recorder-version, pid, process, wall-clock-start-ns, clock-resolution-ns."),
        KindSpec(kind: .string, name: "string", timed: false, fields: [
            FieldSpec(name: "id", type: .uint, doc: "1, 2, 3 … in order of definition"),
            FieldSpec(name: "utf8", type: .bytes, doc: "at most 65,535 bytes"),
        ], doc: "Defines a string for this and every later chunk."),
        KindSpec(kind: .close, name: "close", timed: true, fields: [],
                 doc: "The recorder stopped cleanly; nothing follows."),
        KindSpec(kind: .spawn, name: "spawn", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the new task's id (never 0)"),
            FieldSpec(name: "parent", type: .task, doc: "the task that created it, or 0"),
            FieldSpec(name: "name", type: .string, doc: "the task's name"),
            FieldSpec(name: "how", enumeration: SpawnKind.self),
        ], doc: "A task started."),
        KindSpec(kind: .cancel, name: "cancel", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the task asked to cancel"),
            FieldSpec(name: "by", type: .task, doc: "the task that asked, or 0 when unknown or not a task"),
            FieldSpec(name: "reason", enumeration: CancelReason.self),
            FieldSpec(name: "message", type: .string, doc: "cancel message (Python's msg), or 0"),
        ], doc: "Cancellation was requested."),
        KindSpec(kind: .caught, name: "caught", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the task whose code caught it"),
            FieldSpec(name: "error", type: .string, doc: "the caught error's type"),
        ], doc: "A cancellation error was caught by the task's code."),
        KindSpec(kind: .cleanupBegin, name: "cleanup-begin", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the task cleaning up"),
        ], doc: "Cleanup after a cancellation started."),
        KindSpec(kind: .cleanupEnd, name: "cleanup-end", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the task cleaning up"),
            FieldSpec(name: "result", enumeration: CleanupResult.self),
            FieldSpec(name: "error", type: .string, doc: "the error type cleanup threw, or 0"),
        ], doc: "Cleanup finished."),
        KindSpec(kind: .rethrow, name: "rethrow", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the task re-raising its cancellation"),
        ], doc: "The caught cancellation was re-raised."),
        KindSpec(kind: .end, name: "end", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the task that ended"),
            FieldSpec(name: "outcome", enumeration: Outcome.self),
            FieldSpec(name: "error", type: .string, doc: "the error type when cancelled or failed, or 0"),
        ], doc: "A task ended."),
        KindSpec(kind: .uncancel, name: "uncancel", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the task whose cancel request was withdrawn"),
        ], doc: "A cancel request was withdrawn on purpose (a timeout turned it into its own error; Python's uncancel())."),
        KindSpec(kind: .dropped, name: "dropped", timed: true, fields: [
            FieldSpec(name: "count", type: .uint, doc: "events the recorder discarded since the last dropped record"),
        ], doc: "The recorder dropped events because the writer fell behind."),
        KindSpec(kind: .mark, name: "mark", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the task that made the mark, or 0"),
            FieldSpec(name: "label", type: .string, doc: "the mark's text"),
        ], doc: "A user mark."),
        KindSpec(kind: .site, name: "site", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the task"),
            FieldSpec(name: "location", type: .string, doc: "`file:line (function)`, or `module+0xOFFSET` when not symbolized"),
        ], doc: "Where the task was created (format 1.1); written right after its spawn."),
        KindSpec(kind: .signal, name: "signal", timed: true, fields: [
            FieldSpec(name: "task", type: .task, doc: "the task whose code met its cancellation"),
            FieldSpec(name: "what", enumeration: CancellationSignal.self),
            FieldSpec(name: "via", type: .string, doc: "the API that showed it (`Task.isCancelled`, `Task.sleep`), or 0"),
        ], doc: "The task's code met its own cancellation (format 1.1): it saw its flag, received the error, or said it stops on purpose."),
    ]
}

/// A small enumeration carried in one varint field.
public protocol WireEnum: RawRepresentable, CaseIterable, Sendable where RawValue == UInt8 {
    /// The spelling used in listings, JSON and docs.
    var label: String { get }
    /// What a value this reader does not know reads as: the value that claims least (Docs/TraceFormat.md).
    static var fallback: Self { get }
}

extension WireEnum {
    static var valuesDoc: String {
        allCases.map { "\($0.rawValue) = \($0.label)" }.joined(separator: ", ")
    }
}

/// How a task was started.
public enum SpawnKind: UInt8, WireEnum {
    case unstructured = 0, child = 1, detached = 2, groupChild = 3, root = 4
    public static let fallback = SpawnKind.unstructured
    public var label: String {
        switch self {
        case .unstructured: "unstructured"
        case .child: "child"
        case .detached: "detached"
        case .groupChild: "group-child"
        case .root: "root"
        }
    }
}

/// Why cancellation was requested.
public enum CancelReason: UInt8, WireEnum {
    case unknown = 0, explicit = 1, timeout = 2, siblingFailure = 3, parent = 4, shutdown = 5
    public static let fallback = CancelReason.unknown
    public var label: String {
        switch self {
        case .unknown: "unknown"
        case .explicit: "explicit"
        case .timeout: "timeout"
        case .siblingFailure: "sibling-failure"
        case .parent: "parent"
        case .shutdown: "shutdown"
        }
    }
}

/// How a task ended.
public enum Outcome: UInt8, WireEnum {
    case returned = 0, cancelled = 1, failed = 2
    /// A task that ended some new way did not simply return.
    public static let fallback = Outcome.failed
    public var label: String {
        switch self {
        case .returned: "returned"
        case .cancelled: "cancelled"
        case .failed: "failed"
        }
    }
}

/// How a task's code met its own cancellation, from the weakest claim to the strongest.
public enum CancellationSignal: UInt8, WireEnum {
    /// The code saw its cancelled flag: `Task.isCancelled` returned true, `checkCancellation()` threw, a
    /// sequence ended while the task was cancelled.
    case flag = 0
    /// A cancellation error came back into the code from something it awaited, while the task itself was
    /// cancelled (a canceller awaiting the child it cancelled does not count).
    case received = 1
    /// The code declared that it stops on purpose (`CancelTrace.stopping()`).
    case stopped = 2
    public static let fallback = CancellationSignal.flag
    public var label: String {
        switch self {
        case .flag: "flag"
        case .received: "received"
        case .stopped: "stopped"
        }
    }
}

/// Whether cleanup completed or threw.
public enum CleanupResult: UInt8, WireEnum {
    case ok = 0, threw = 1
    public static let fallback = CleanupResult.threw
    public var label: String { self == .ok ? "ok" : "threw" }
}
