#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a trace as a stream of events, in file order.
///
/// Memory is bounded by one read buffer, one chunk (`TraceLayout.maxChunkRawLength`) and the string table
/// (`TraceLayout.maxStringTableBytes`), never by the file's size. Damage is reported in `notices` and skipped:
/// a truncated file yields every complete chunk, a chunk with a bad CRC is skipped and the next one is found by
/// its marker. Only a file that is not a trace at all, or one from an unsupported major version, throws.
public final class TraceReader {
    public private(set) var version: (major: UInt16, minor: UInt16)
    public private(set) var strings = StringTable()
    public private(set) var info = TraceInfo()
    public private(set) var notices: [ReadNotice] = []
    /// Whether the recorder's `close` record was read.
    public private(set) var sawClose = false
    /// File bytes consumed so far, for progress.
    public var bytesConsumed: UInt64 { bufferFileOffset + UInt64(bufferStart) }
    /// Events yielded so far.
    public private(set) var eventCount = 0
    /// Whether any chunk or record was skipped because it was damaged.
    public var sawDamage: Bool { damagedChunks > 0 }
    /// Chunks skipped because they were damaged, wholly (`corruptChunk`) or from a malformed record on
    /// (`malformedRecord`): the damage notices, including those past `maxNotices`.
    public private(set) var damagedChunks = 0
    /// Notices about damaged chunks and records, and backwards times, past the first `maxNotices`: counted, not kept,
    /// so that a file that is damage from end to end cannot grow `notices` without bound.
    public private(set) var elidedNotices = 0
    /// Most damage and backwards-time notices `notices` keeps.
    public static let maxNotices = 1_000

    private enum Source {
        case file(Int32)
        case memory
    }
    private var source: Source
    /// Read buffer: `buffer[bufferStart..<bufferEnd]` are file bytes not yet consumed. Its storage is allocated
    /// once (grown only for a chunk larger than a read) and reused: `fill` compacts and reads into it in place.
    private var buffer: [UInt8]
    private var bufferStart = 0
    private var bufferEnd = 0
    private var bufferFileOffset: UInt64 = 0
    private var atEOF = false
    private static let readSize = 1 << 20

    /// The current chunk's inflated records. Raw memory owned by the reader, so that decoding a record is plain
    /// pointer reads (no closure, no array bounds or uniqueness checks); grown on demand, never shrunk.
    private var payload = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var payloadCount = 0
    private var position = 0
    private var chunkOffset: UInt64 = 0
    private var chunkTime: UInt64 = 0
    private var lastTime: UInt64 = 0
    private var finished = false
    private var skippedKinds: [UInt8: Int] = [:]
    private var backwardsNoticeChunk: UInt64?
    /// Bytes of candidate chunks whose CRC was checked and did not match.
    private var rejectedBytes: UInt64 = 0

    /// Opens `path` and checks its header.
    public convenience init(path: String) throws(TraceReadError) {
        try self.init(path: Array(path.utf8CString))
    }

    /// Opens the file named by the NUL-terminated bytes `path`, which need not be UTF-8 (a Unix file name is any
    /// bytes), and checks its header.
    public convenience init(path: [CChar]) throws(TraceReadError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 { throw .cannotOpen(reason: String(cString: strerror(errno))) }
        var status = stat()
        if fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR {
            closeDescriptor(fd)
            throw .cannotOpen(reason: "is a directory")
        }
        do {
            try self.init(source: .file(fd), bytes: [])
        } catch {
            closeDescriptor(fd)
            throw error
        }
    }

    /// Reads a trace held in memory (tests, fuzzing).
    public convenience init(bytes: [UInt8]) throws(TraceReadError) {
        try self.init(source: .memory, bytes: bytes)
    }

    private init(source: Source, bytes: [UInt8]) throws(TraceReadError) {
        self.source = source
        self.buffer = bytes
        self.bufferEnd = bytes.count
        self.atEOF = { if case .memory = source { true } else { false } }()
        self.version = (0, 0)
        try fill(atLeast: TraceLayout.headerSize)
        let available = bufferEnd
        if available == 0 { throw .empty }
        let magic = TraceLayout.magic
        if available < magic.count || !buffer[0..<magic.count].elementsEqual(magic) {
            if buffer[0..<min(available, magic.count)].elementsEqual(magic[0..<min(available, magic.count)]) {
                throw .truncatedHeader(size: available)
            }
            throw .notATrace(looksLike: Self.guessFormat(buffer[0..<min(available, 512)]))
        }
        if available < TraceLayout.headerSize { throw .truncatedHeader(size: available) }
        let major = UInt16(buffer[8]) | UInt16(buffer[9]) << 8
        let minor = UInt16(buffer[10]) | UInt16(buffer[11]) << 8
        version = (major, minor)
        if major != TraceLayout.majorVersion { throw .unsupportedVersion(major: major, minor: minor) }
        if minor > TraceLayout.minorVersion { notices.append(.newerMinorVersion(major: major, minor: minor)) }
        bufferStart = TraceLayout.headerSize
    }

    deinit {
        if case let .file(fd) = source { closeDescriptor(fd) }
        payload.deallocate()
    }

    /// The next event, or nil at the end of what can be read. Throws only when reading must stop for good.
    public func next() throws(TraceReadError) -> TraceEvent? {
        while true {
            if position < payloadCount {
                if let event = try decodeRecord() {
                    eventCount += 1
                    return event
                }
                continue
            }
            if finished { return nil }
            if try !loadNextChunk() {
                finish()
                return nil
            }
        }
    }

    /// Replaces `events` with the next run of events (the rest of the current chunk, or the next chunk's), in
    /// file order; false at the end of what can be read. The same events as calling `next()` repeatedly, for a
    /// caller that wants them without a call per event: the common records are decoded in one tight loop.
    ///
    /// Strings defined by the chunk are in `strings` when this returns, as they are after `next()` has passed
    /// their definitions; a recorder defines each string before the first record that uses it.
    public func nextEvents(into events: inout [TraceEvent]) throws(TraceReadError) -> Bool {
        var collector = EventCollector()
        swap(&collector.events, &events)
        defer { swap(&collector.events, &events) }
        collector.events.removeAll(keepingCapacity: true)
        while collector.events.isEmpty {
            guard try nextEvents(to: &collector) else { return false }
        }
        return true
    }

    /// Decodes the rest of the current chunk, or of the next one that has records, handing each event to
    /// `visitor` as it is decoded; false at the end of what can be read. The same events as `next()` and
    /// `nextEvents(into:)`, without an array in between (`TraceEventVisitor` says why that is faster). A call may
    /// hand over no event (a chunk of definitions only) and still return true.
    ///
    /// Strings are defined in `strings` before the first event that uses them is visited.
    @inlinable
    public func nextEvents<Visitor: TraceEventVisitor>(to visitor: inout Visitor) throws(TraceReadError) -> Bool {
        guard var run = try beginRun() else { return false }
        while true {
            run.decode(to: &visitor)
            endRun(run)
            guard run.position < run.end else { return true }
            // Stopped at a record the run leaves to `decodeRecord`: a definition, info, close, an extension or
            // unknown kind, a time going backwards, or damage.
            if let event = try decodeLeftRecord() { visitor.visit(event) }
            guard let next = resumeRun() else { return true }
            run = next
        }
    }

    /// The undecoded rest of the current chunk, loading the next chunk with records when it is used up; nil at the
    /// end of what can be read.
    @usableFromInline
    func beginRun() throws(TraceReadError) -> RecordRun? {
        while position >= payloadCount {
            if finished { return nil }
            if try !loadNextChunk() {
                finish()
                return nil
            }
        }
        return resumeRun()
    }

    /// The undecoded rest of the current chunk, or nil when it is used up.
    @usableFromInline
    func resumeRun() -> RecordRun? {
        guard position < payloadCount else { return nil }
        return RecordRun(bytes: UnsafePointer(payload.baseAddress!.assumingMemoryBound(to: UInt8.self)),
                         position: position, end: payloadCount, time: chunkTime, floor: lastTime)
    }

    /// Takes back what `run` decoded.
    @usableFromInline
    func endRun(_ run: RecordRun) {
        position = run.position
        chunkTime = run.time
        if run.count > 0 {
            lastTime = run.time
            eventCount += run.count
        }
    }

    /// The record `RecordRun` stopped at, decoded with every check; nil when it is not an event.
    @usableFromInline
    func decodeLeftRecord() throws(TraceReadError) -> TraceEvent? {
        guard let event = try decodeRecord() else { return nil }
        eventCount += 1
        return event
    }

    // MARK: Records

    private func decodeRecord() throws(TraceReadError) -> TraceEvent? {
        let start = position
        let end = payloadCount
        let bytes = UnsafePointer(payload.baseAddress!.assumingMemoryBound(to: UInt8.self))
        var p = start
        let raw = bytes[p]
        p &+= 1
        guard raw < EventKind.firstExtensionKind, raw != EventKind.string.rawValue,
              let kind = EventKind(rawValue: raw) else {
            return try decodeUncommon(raw, bytes: bytes, from: start, end: end)
        }
        // The common case: a timed core record, every field a varint.
        guard let delta = RecordRun.varint(bytes, &p, end) else { return malformed(start, "record runs past the chunk") }
        guard let fields = Self.fields(kind.fieldCount, bytes, &p, end) else { return malformed(start, "record runs past the chunk") }
        return timedEvent(kind, delta: delta, fields: fields, from: start, next: p)
    }

    /// `count` varint fields at `p`, or nil when they run past `end`.
    @inline(__always)
    private static func fields(_ count: Int, _ bytes: UnsafePointer<UInt8>, _ p: inout Int, _ end: Int) -> (UInt64, UInt64, UInt64, UInt64)? {
        var fields: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        if count > 0 { guard let v = RecordRun.varint(bytes, &p, end) else { return nil }; fields.0 = v }
        if count > 1 { guard let v = RecordRun.varint(bytes, &p, end) else { return nil }; fields.1 = v }
        if count > 2 { guard let v = RecordRun.varint(bytes, &p, end) else { return nil }; fields.2 = v }
        if count > 3 { guard let v = RecordRun.varint(bytes, &p, end) else { return nil }; fields.3 = v }
        return fields
    }

    /// The event of a decoded timed record: applies its time delta (never letting time go backwards) and keeps
    /// metadata. `next` is where the record after it starts.
    private func timedEvent(_ kind: EventKind, delta: UInt64, fields: (UInt64, UInt64, UInt64, UInt64),
                            from start: Int, next p: Int) -> TraceEvent? {
        let (time, overflow) = chunkTime.addingReportingOverflow(delta)
        guard !overflow else { return malformed(start, "time overflows 64 bits") }
        chunkTime = time
        position = p
        var event = TraceEvent(kind: kind, time: time, fields: fields)
        if time < lastTime {
            if backwardsNoticeChunk != chunkOffset {
                backwardsNoticeChunk = chunkOffset
                note(.timeWentBackwards(chunkOffset: chunkOffset))
            }
            event.time = lastTime
        }
        lastTime = event.time
        switch kind {
        case .info where info.items.count < TraceLayout.maxInfoItems:
            info.append(key: strings[event.infoKey], value: strings[event.infoValue])
        case .close: sawClose = true
        default: break
        }
        return event
    }

    /// String definitions, extension records and unknown kinds: never yielded as events.
    private func decodeUncommon(_ raw: UInt8, bytes: UnsafePointer<UInt8>, from start: Int, end: Int) throws(TraceReadError) -> TraceEvent? {
        var p = start + 1
        if raw >= EventKind.firstExtensionKind {
            guard let length = RecordRun.varint(bytes, &p, end), length <= UInt64(end - p) else {
                return malformed(start, "extension record runs past the chunk")
            }
            if let kind = EventKind(rawValue: raw) {
                // A known extension kind: a time delta and fields, like a core record, inside its length. Bytes
                // after the known fields are from a newer minor version and are skipped.
                let bodyEnd = p + Int(length)
                guard let delta = RecordRun.varint(bytes, &p, bodyEnd),
                      let fields = Self.fields(kind.fieldCount, bytes, &p, bodyEnd) else {
                    return malformed(start, "\(kind.spec.name) record shorter than its fields")
                }
                return timedEvent(kind, delta: delta, fields: fields, from: start, next: bodyEnd)
            }
            p += Int(length)
            skippedKinds[raw, default: 0] += 1
            position = p
            return nil
        }
        guard raw == EventKind.string.rawValue else { return malformed(start, "unknown event kind 0x\(String(raw, radix: 16))") }
        guard let id = RecordRun.varint(bytes, &p, end), let length = RecordRun.varint(bytes, &p, end) else {
            return malformed(start, "string record runs past the chunk")
        }
        guard length <= UInt64(TraceLayout.maxStringLength) else {
            return malformed(start, "string #\(id) is \(length) bytes, over the 65535-byte limit")
        }
        guard length <= UInt64(end - p) else { return malformed(start, "string record runs past the chunk") }
        guard id > 0, id <= UInt64(TraceLayout.maxStringCount) else { return malformed(start, "string id \(id) out of range") }
        let text = String(decoding: UnsafeBufferPointer(start: bytes + p, count: Int(length)), as: UTF8.self)
        position = p + Int(length)
        if !strings.define(id: id, text: text) { throw .stringTableTooLarge(offset: chunkOffset) }
        return nil
    }

    /// Reports an undecodable record and skips the rest of its chunk.
    private func malformed(_ payloadOffset: Int, _ reason: String) -> TraceEvent? {
        note(.malformedRecord(chunkOffset: chunkOffset, payloadOffset: payloadOffset, reason: reason))
        position = payloadCount
        return nil
    }

    // MARK: Chunks

    /// Makes the next intact chunk current. Returns false at the end of the file.
    private func loadNextChunk() throws(TraceReadError) -> Bool {
        payloadCount = 0
        position = 0
        while true {
            let offset = bytesConsumed
            try fill(atLeast: TraceLayout.chunkHeaderSize)
            let available = bufferEnd - bufferStart
            if available == 0 { return false }
            if available < TraceLayout.chunkHeaderSize {
                notices.append(.truncated(offset: offset))
                return false
            }
            guard hasMarker(at: bufferStart) else {
                try resync(from: offset, reason: "no chunk marker")
                continue
            }
            let compressedLength = Int(buffer.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[bufferStart...]).loadLittleEndianUInt32(at: 4) })
            let rawLength = Int(buffer.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[bufferStart...]).loadLittleEndianUInt32(at: 8) })
            let storedCRC = buffer.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[bufferStart...]).loadLittleEndianUInt32(at: 12) }
            guard compressedLength > 0, compressedLength <= TraceLayout.maxChunkCompressedLength,
                  rawLength > 0, rawLength <= TraceLayout.maxChunkRawLength else {
                try resync(from: offset, reason: "implausible lengths (compressed \(compressedLength), raw \(rawLength))")
                continue
            }
            let total = TraceLayout.chunkHeaderSize + compressedLength
            try fill(atLeast: total)
            if bufferEnd - bufferStart < total {
                // The file ends before the declared end: truncation, unless the length field was damaged and
                // another chunk follows.
                if try nextMarker(after: bufferStart + 1) != nil {
                    try resync(from: offset, reason: "its length runs past the end of the file")
                    continue
                }
                notices.append(.truncated(offset: offset))
                bufferStart = bufferEnd
                return false
            }
            let crc = buffer.withUnsafeBytes { bytes in
                let lengths = UnsafeRawBufferPointer(rebasing: bytes[bufferStart + 4..<bufferStart + 12])
                let body = UnsafeRawBufferPointer(rebasing: bytes[bufferStart + 16..<bufferStart + total])
                return Zlib.crc32(body, continuing: Zlib.crc32(lengths))
            }
            guard crc == storedCRC else {
                // Whether a chunk marker (or the end of the file) follows the declared end decides where to go on;
                // from a file, the 4 bytes after it may not be read yet.
                try fill(atLeast: total + 4)
                let next = bufferStart + total
                // Checking a candidate costs its length. Past a budget (16 times the bytes read so far + 256 MiB), a
                // failed candidate's bytes are skipped rather than searched for overlapping candidates, so that a
                // file crafted with a plausible chunk header every few bytes cannot make recovery quadratic.
                rejectedBytes += UInt64(total)
                let overBudget = rejectedBytes > 16 * bytesConsumed + UInt64(256 << 20)
                if (next == bufferEnd && atEOF) || (next + 4 <= bufferEnd && hasMarker(at: next)) || overBudget {
                    note(.corruptChunk(offset: offset, reason: "CRC mismatch"))
                    bufferStart = next
                } else {
                    try resync(from: offset, reason: "CRC mismatch")
                }
                continue
            }
            if payload.count < rawLength {
                payload.deallocate()
                payload = .allocate(byteCount: max(rawLength, TraceLayout.defaultChunkRawLength), alignment: 16)
            }
            let output = payload
            let inflated = buffer.withUnsafeBytes { bytes in
                Result { () throws(Zlib.InflateFailure) in
                    try Zlib.inflate(UnsafeRawBufferPointer(rebasing: bytes[bufferStart + 16..<bufferStart + total]),
                                     rawLength: rawLength, into: output)
                }
            }
            if case let .failure(failure) = inflated {
                let reason = switch failure {
                case .longerThanDeclared: "inflates to more than its declared \(rawLength) bytes"
                case let .shorterThanDeclared(n): "inflates to \(n) bytes, not the declared \(rawLength)"
                case .invalidStream: "invalid zlib data"
                }
                note(.corruptChunk(offset: offset, reason: reason))
                bufferStart += total
                continue
            }
            bufferStart += total
            chunkOffset = offset
            chunkTime = 0
            payloadCount = rawLength
            return true
        }
    }

    /// Reports damage at `offset` and moves to the next chunk marker after it (or to the end of the file).
    private func resync(from offset: UInt64, reason: String) throws(TraceReadError) {
        note(.corruptChunk(offset: offset, reason: reason))
        if let next = try nextMarker(after: bufferStart + 1) {
            bufferStart = next
        } else {
            bufferStart = bufferEnd
        }
    }

    /// Index in `buffer` of the next chunk marker at or after `index`, reading more as needed;
    /// bytes before it are dropped from the buffer.
    private func nextMarker(after index: Int) throws(TraceReadError) -> Int? {
        var i = index
        while true {
            while i + 4 <= bufferEnd {
                if hasMarker(at: i) { return i }
                i += 1
            }
            if atEOF { return nil }
            // Nothing before `i` can start a marker: drop it, keeping a marker that may straddle the read boundary.
            bufferStart = max(bufferStart, i)
            let before = bufferEnd - bufferStart
            try fill(atLeast: before + 1)
            i = bufferStart
        }
    }

    private func hasMarker(at index: Int) -> Bool {
        index + 4 <= bufferEnd
            && buffer[index] == 0x43 && buffer[index + 1] == 0x54 && buffer[index + 2] == 0x43 && buffer[index + 3] == 0x4B
    }

    /// Makes at least `count` bytes available from `bufferStart`, unless the file ends first.
    private func fill(atLeast count: Int) throws(TraceReadError) {
        guard case let .file(fd) = source else { return }
        while bufferEnd - bufferStart < count && !atEOF {
            if bufferStart > 0 {
                // Keep the unconsumed tail (less than one chunk), moved to the front of the same storage.
                let tail = bufferEnd - bufferStart
                let from = bufferStart
                buffer.withUnsafeMutableBytes { bytes in
                    if tail > 0 { bytes.baseAddress!.copyMemory(from: bytes.baseAddress! + from, byteCount: tail) }
                }
                bufferFileOffset += UInt64(bufferStart)
                bufferStart = 0
                bufferEnd = tail
            }
            let want = max(Self.readSize, count - bufferEnd)
            if buffer.count < bufferEnd + want {
                buffer.append(contentsOf: repeatElement(0, count: bufferEnd + want - buffer.count))
            }
            let old = bufferEnd
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .readFailed(offset: bufferFileOffset + UInt64(old), reason: String(cString: strerror(errno)))
            }
            bufferEnd += n
            if n == 0 { atEOF = true }
        }
    }

    /// Keeps a notice about damage or backwards time, or counts it once `maxNotices` are kept.
    private func note(_ notice: ReadNotice) {
        if notice.isDamage { damagedChunks += 1 }
        if notices.count < Self.maxNotices {
            notices.append(notice)
        } else {
            elidedNotices += 1
        }
    }

    private func finish() {
        finished = true
        for (kind, count) in skippedKinds.sorted(by: { $0.key < $1.key }) {
            notices.append(.skippedUnknownKind(kind: kind, count: count))
        }
        let cut = notices.contains { if case .truncated = $0 { true } else { false } }
        if !sawClose && !cut { notices.append(.notClosed(offset: bytesConsumed)) }
    }

    /// A name for common non-trace inputs, so the error says what the file is.
    private static func guessFormat(_ prefix: ArraySlice<UInt8>) -> String? {
        let bytes = Array(prefix)
        if bytes.starts(with: [0x1F, 0x8B]) { return "a gzip file" }
        if bytes.count >= 2, bytes[0] == 0x78, [0x01, 0x5E, 0x9C, 0xDA].contains(bytes[1]) { return "a bare zlib stream" }
        if bytes.starts(with: Array("PK".utf8)) { return "a zip file" }
        if bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]) { return "an ELF executable" }
        if bytes.first == UInt8(ascii: "{") || bytes.first == UInt8(ascii: "[") { return "JSON text" }
        let printable = bytes.allSatisfy { $0 == 9 || $0 == 10 || $0 == 13 || ($0 >= 32 && $0 < 127) || $0 >= 0xC0 || ($0 >= 0x80 && $0 < 0xC0) }
        if printable, String(validating: bytes, as: UTF8.self) != nil { return "a text file" }
        return nil
    }

    /// The visitor behind `nextEvents(into:)`.
    private struct EventCollector: TraceEventVisitor {
        var events: [TraceEvent] = []
        mutating func visit(_ event: TraceEvent) { events.append(event) }
    }
}
