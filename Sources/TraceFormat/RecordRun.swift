/// The undecoded rest of `TraceReader`'s current chunk, decoded by `TraceReader.nextEvents(to:)` inlined into
/// its caller. Holds only the common case — timed core records other than info and close — and stops at anything
/// else (a definition, info, close, an extension or unknown kind, a time going backwards, damage), which the
/// reader's own per-record decoder then handles.
@usableFromInline
struct RecordRun {
    @usableFromInline let bytes: UnsafePointer<UInt8>
    @usableFromInline let end: Int
    @usableFromInline var position: Int
    /// The time of the last record decoded (the chunk's times are deltas from it).
    @usableFromInline var time: UInt64
    /// The last time the reader gave out before this run: a record earlier than this stops the run.
    @usableFromInline let floor: UInt64
    /// Events decoded so far.
    @usableFromInline var count = 0

    @usableFromInline
    init(bytes: UnsafePointer<UInt8>, position: Int, end: Int, time: UInt64, floor: UInt64) {
        self.bytes = bytes
        self.position = position
        self.end = end
        self.time = time
        self.floor = floor
    }

    /// Decodes records and hands them to `visitor` until the chunk ends or a record needs the reader's care.
    /// One `case` per kind, so that after inlining each call to `visit` sees a constant kind and field count.
    @inlinable @inline(__always)
    mutating func decode<Visitor: TraceEventVisitor>(to visitor: inout Visitor) {
        while position < end {
            let event: TraceEvent?
            switch bytes[position] {
            case EventKind.spawn.rawValue: event = record(.spawn)
            case EventKind.cancel.rawValue: event = record(.cancel)
            case EventKind.caught.rawValue: event = record(.caught)
            case EventKind.cleanupBegin.rawValue: event = record(.cleanupBegin)
            case EventKind.cleanupEnd.rawValue: event = record(.cleanupEnd)
            case EventKind.rethrow.rawValue: event = record(.rethrow)
            case EventKind.end.rawValue: event = record(.end)
            case EventKind.uncancel.rawValue: event = record(.uncancel)
            case EventKind.dropped.rawValue: event = record(.dropped)
            case EventKind.mark.rawValue: event = record(.mark)
            default: return
            }
            guard let event else { return }
            visitor.visit(event)
        }
    }

    /// The record of `kind` at `position`, or nil (and `position` unchanged) when it needs the reader's care.
    /// `@_transparent` (always inlined, early) rather than `@inline(__always)`, which the optimizer stopped
    /// honouring once the visitor's code made the caller large: `kind` must be a constant where it is used.
    @_transparent @usableFromInline
    mutating func record(_ kind: EventKind) -> TraceEvent? {
        var q = position &+ 1
        guard let delta = Self.varint(bytes, &q, end) else { return nil }
        var fields: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let count = kind.fieldCount
        if count > 0 { guard let v = Self.varint(bytes, &q, end) else { return nil }; fields.0 = v }
        if count > 1 { guard let v = Self.varint(bytes, &q, end) else { return nil }; fields.1 = v }
        if count > 2 { guard let v = Self.varint(bytes, &q, end) else { return nil }; fields.2 = v }
        if count > 3 { guard let v = Self.varint(bytes, &q, end) else { return nil }; fields.3 = v }
        let (next, overflow) = time.addingReportingOverflow(delta)
        guard !overflow, next >= floor else { return nil }
        time = next
        position = q
        self.count &+= 1
        return TraceEvent(kind: kind, time: next, fields: fields)
    }

    /// Unsigned LEB128 at `p` in `bytes[..<end]`; nil when it runs past `end` or over 64 bits.
    @inlinable @inline(__always)
    static func varint(_ bytes: UnsafePointer<UInt8>, _ p: inout Int, _ end: Int) -> UInt64? {
        guard p < end else { return nil }
        var byte = bytes[p]
        p &+= 1
        if byte < 0x80 { return UInt64(byte) }  // most fields are one byte
        if end &- p >= 9 { return longVarint(bytes, &p, first: byte) }
        var value = UInt64(byte & 0x7F)
        var shift: UInt64 = 7
        while p < end {
            byte = bytes[p]
            p &+= 1
            if shift == 63 && byte > 1 { return nil }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift &+= 7
            if shift > 63 { return nil }
        }
        return nil
    }

    /// The rest of a varint whose first byte (`first`, already consumed) had its high bit set, when the chunk
    /// has the 9 bytes a 10-byte varint can still need: no end check per byte. Nil over 64 bits.
    @inlinable @inline(__always)
    static func longVarint(_ bytes: UnsafePointer<UInt8>, _ p: inout Int, first: UInt8) -> UInt64? {
        var value = UInt64(first & 0x7F)
        var q = p
        var shift: UInt64 = 7
        repeat {
            let byte = bytes[q]
            q &+= 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                p = q
                return value
            }
            shift &+= 7
        } while shift < 63
        // The tenth byte holds bit 63 only.
        let last = bytes[q]
        guard last <= 1 else { return nil }
        p = q &+ 1
        return value | UInt64(last) << 63
    }
}
