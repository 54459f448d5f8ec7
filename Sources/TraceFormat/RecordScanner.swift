/// Splits an inflated chunk payload into its records, as the bytes say, before any meaning is given to them:
/// times stay deltas, strings stay ids. The one decoder of the record syntax: `TraceReader` gives the records
/// their meaning (absolute times, the string table, notices), the flight recorder reads its own chunks with it,
/// and `RecordRun` is its fast path for the common records, inlined into the analyzer.
///
/// Works on memory the caller owns and keeps alive while scanning.
public struct RecordScanner {
    /// One record.
    public enum Record {
        /// A timed record of a known kind, core or extension: its time delta and fields (unused ones 0). An
        /// extension record's bytes after its known fields, from a newer minor version, are skipped.
        case timed(EventKind, delta: UInt64, fields: (UInt64, UInt64, UInt64, UInt64))
        /// A string definition: its id and where its UTF-8 bytes are in the payload.
        case string(id: UInt64, bytes: Range<Int>)
        /// An extension record of a kind this version does not know, skipped by its length.
        case unknownExtension(kind: UInt8)
    }

    /// A record that cannot be decoded; the rest of its chunk cannot be either.
    public struct Malformed: Error {
        /// What is wrong, for the reader's notice.
        public let reason: String
    }

    private let bytes: UnsafePointer<UInt8>
    private let end: Int
    /// Where the next record starts.
    public private(set) var position: Int

    /// Scans `payload` from `position`.
    public init(_ payload: UnsafeRawBufferPointer, from position: Int = 0) {
        bytes = payload.baseAddress.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) }
            ?? UnsafePointer(bitPattern: 1)!
        end = payload.count
        self.position = position
    }

    /// The record at `position`, moving past it; nil at the end of the payload. After a throw, `position` is
    /// unchanged.
    public mutating func next() throws(Malformed) -> Record? {
        guard position < end else { return nil }
        var p = position
        let raw = bytes[p]
        p &+= 1
        let record: Record
        if raw >= EventKind.firstExtensionKind {
            guard let length = RecordRun.varint(bytes, &p, end), length <= UInt64(end - p) else {
                throw Malformed(reason: "extension record runs past the chunk")
            }
            let bodyEnd = p + Int(length)
            if let kind = EventKind(rawValue: raw) {
                guard let (delta, fields) = Self.timed(kind, bytes, &p, bodyEnd) else {
                    throw Malformed(reason: "\(kind.spec.name) record shorter than its fields")
                }
                record = .timed(kind, delta: delta, fields: fields)
            } else {
                record = .unknownExtension(kind: raw)
            }
            p = bodyEnd
        } else if raw == EventKind.string.rawValue {
            guard let id = RecordRun.varint(bytes, &p, end), let length = RecordRun.varint(bytes, &p, end) else {
                throw Malformed(reason: "string record runs past the chunk")
            }
            guard length <= UInt64(TraceLayout.maxStringLength) else {
                throw Malformed(reason: "string #\(id) is \(length) bytes, over the 65535-byte limit")
            }
            guard length <= UInt64(end - p) else { throw Malformed(reason: "string record runs past the chunk") }
            guard id > 0, id <= UInt64(TraceLayout.maxStringCount) else { throw Malformed(reason: "string id \(id) out of range") }
            record = .string(id: id, bytes: p..<p + Int(length))
            p += Int(length)
        } else if let kind = EventKind(rawValue: raw) {
            guard let (delta, fields) = Self.timed(kind, bytes, &p, end) else {
                throw Malformed(reason: "record runs past the chunk")
            }
            record = .timed(kind, delta: delta, fields: fields)
        } else {
            throw Malformed(reason: "unknown event kind 0x\(String(raw, radix: 16))")
        }
        position = p
        return record
    }

    /// The time delta and `kind.fieldCount` varint fields at `p`, or nil when they run past `end`.
    @inline(__always)
    private static func timed(_ kind: EventKind, _ bytes: UnsafePointer<UInt8>, _ p: inout Int, _ end: Int)
        -> (UInt64, (UInt64, UInt64, UInt64, UInt64))? {
        guard let delta = RecordRun.varint(bytes, &p, end) else { return nil }
        let count = kind.fieldCount
        var fields: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        if count > 0 { guard let v = RecordRun.varint(bytes, &p, end) else { return nil }; fields.0 = v }
        if count > 1 { guard let v = RecordRun.varint(bytes, &p, end) else { return nil }; fields.1 = v }
        if count > 2 { guard let v = RecordRun.varint(bytes, &p, end) else { return nil }; fields.2 = v }
        if count > 3 { guard let v = RecordRun.varint(bytes, &p, end) else { return nil }; fields.3 = v }
        return (delta, fields)
    }
}
