/// Encodes records into one chunk's raw (uncompressed) payload.
///
/// Times are written as deltas from the previous record in the same chunk, starting from 0, so every chunk's
/// times decode on their own. Call `startChunk()` after handing `bytes` to a writer.
public struct EventEncoder: Sendable {
    /// The chunk's raw payload so far.
    public var bytes: [UInt8] { _bytes }
    /// Storage behind `bytes`; visible to inlined code only.
    @usableFromInline var _bytes: [UInt8] = []
    @usableFromInline var lastTime: UInt64 = 0

    public init(reservingCapacity capacity: Int = TraceLayout.defaultChunkRawLength + 256) {
        _bytes.reserveCapacity(capacity)
    }

    /// Starts a new chunk: clears the bytes (keeping their storage) and the time base.
    public mutating func startChunk() {
        _bytes.removeAll(keepingCapacity: true)
        lastTime = 0
    }

    /// Appends one event. Times earlier than the previous record's are written as the previous time:
    /// deltas are unsigned, and a reader sees time that never goes backwards within a chunk.
    @inlinable
    public mutating func append(_ event: TraceEvent) {
        precondition(event.kind != .string, "use appendString(id:utf8:) for string definitions")
        _bytes.append(event.kind.rawValue)
        // An extension record's body is at most 1 + 4 varints (< 0x80 bytes), so its length is one byte, patched
        // once the body is written.
        let lengthIndex = _bytes.count
        if event.kind.isExtension { _bytes.append(0) }
        let time = Swift.max(event.time, lastTime)
        _bytes.appendVarint(time - lastTime)
        lastTime = time
        let count = event.kind.fieldCount
        if count > 0 { _bytes.appendVarint(event.fields.0) }
        if count > 1 { _bytes.appendVarint(event.fields.1) }
        if count > 2 { _bytes.appendVarint(event.fields.2) }
        if count > 3 { _bytes.appendVarint(event.fields.3) }
        if event.kind.isExtension { _bytes[lengthIndex] = UInt8(truncatingIfNeeded: _bytes.count - lengthIndex - 1) }
    }

    /// Appends a string definition. `utf8` longer than `TraceLayout.maxStringLength` is cut at a Unicode scalar boundary.
    public mutating func appendString(id: StringID, utf8: some Collection<UInt8>) {
        let text = String(decoding: utf8, as: UTF8.self)
        let bounded = TraceStrings.bounded(text)
        _bytes.append(EventKind.string.rawValue)
        _bytes.appendVarint(id)
        _bytes.appendVarint(UInt64(bounded.utf8.count))
        _bytes.append(contentsOf: bounded.utf8)
    }

    /// Appends a record of an extension kind (≥ 0x80) with an opaque body, as a newer writer would.
    public mutating func appendExtension(kind: UInt8, body: [UInt8]) {
        precondition(kind >= EventKind.firstExtensionKind)
        _bytes.append(kind)
        _bytes.appendVarint(UInt64(body.count))
        _bytes.append(contentsOf: body)
    }

}

extension EventKind {
    /// Number of varint fields after the time delta: `spec.fields.count` as a switch the optimizer folds, for the
    /// encoder's and decoder's hot paths (a test checks it against `KindSpec.all`). 0 for `string`. Always
    /// inlined: in the analyzer's large decode loop the optimizer otherwise called it once per record.
    @inlinable @inline(__always)
    public var fieldCount: Int {
        switch self {
        case .close, .string: 0
        case .cleanupBegin, .rethrow, .uncancel, .dropped: 1
        case .info, .caught, .mark, .site: 2
        case .cleanupEnd, .end, .signal: 3
        case .spawn, .cancel: 4
        }
    }
}

extension Array where Element == UInt8 {
    /// Unsigned LEB128.
    @inlinable
    public mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(truncatingIfNeeded: v))
    }
}

/// Bounds on strings recorded from applications: names are data, and a trace must stay bounded.
public enum TraceStrings {
    /// `text` cut to at most `limit` UTF-8 bytes at a Unicode scalar boundary.
    public static func bounded(_ text: String, limit: Int = TraceLayout.maxStringLength) -> String {
        if text.utf8.count <= limit { return text }
        let utf8 = Array(text.utf8)
        var end = limit
        while end > 0 && utf8[end] & 0xC0 == 0x80 { end -= 1 }  // back off continuation bytes
        return String(decoding: utf8[..<end], as: UTF8.self)
    }
}
