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
    public var bytesConsumed: UInt64 { chunks.bytesConsumed }
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

    private let chunks: ChunkReader
    /// The current chunk's inflated records (owned by `chunks`).
    private var payload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(chunks.payload) }
    private var payloadCount = 0
    private var position = 0
    private var chunkOffset: UInt64 = 0
    private var chunkTime: UInt64 = 0
    private var lastTime: UInt64 = 0
    private var finished = false
    private var skippedKinds: [UInt8: Int] = [:]
    private var backwardsNoticeChunk: UInt64?

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
        // Closed with the chunk reader, also when the header is refused.
        try self.init(chunks: ChunkReader(source: .file(fd), bytes: []))
    }

    /// Reads a trace held in memory (tests, fuzzing).
    public convenience init(bytes: [UInt8]) throws(TraceReadError) {
        try self.init(chunks: ChunkReader(source: .memory, bytes: bytes))
    }

    private init(chunks: ChunkReader) throws(TraceReadError) {
        self.chunks = chunks
        self.version = (0, 0)
        let header = try chunks.peek(TraceLayout.headerSize)
        let available = header.count
        if available == 0 { throw .empty }
        let magic = TraceLayout.magic
        if available < magic.count || !header.prefix(magic.count).elementsEqual(magic) {
            if header.prefix(magic.count).elementsEqual(magic[0..<min(available, magic.count)]) {
                throw .truncatedHeader(size: available)
            }
            throw .notATrace(looksLike: Self.guessFormat(try chunks.peek(512)))
        }
        if available < TraceLayout.headerSize { throw .truncatedHeader(size: available) }
        let start = header.startIndex
        let major = UInt16(header[start + 8]) | UInt16(header[start + 9]) << 8
        let minor = UInt16(header[start + 10]) | UInt16(header[start + 11]) << 8
        version = (major, minor)
        if major != TraceLayout.majorVersion { throw .unsupportedVersion(major: major, minor: minor) }
        if minor > TraceLayout.minorVersion { notices.append(.newerMinorVersion(major: major, minor: minor)) }
        chunks.skip(TraceLayout.headerSize)
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

    /// Decodes the rest of the current chunk, or of the next one that has records, handing each event to
    /// `visitor` as it is decoded; false at the end of what can be read. The same events as `next()`, without
    /// an array in between (`TraceEventVisitor` says why that is faster). A call may
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
        // safe: `position < payloadCount` means the payload holds bytes, so it has a base address
        return RecordRun(bytes: payload.baseAddress!.assumingMemoryBound(to: UInt8.self),
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

    /// The record at `position`, decoded with every check; nil when it is not an event (a string definition, an
    /// unknown extension kind, damage).
    private func decodeRecord() throws(TraceReadError) -> TraceEvent? {
        let start = position
        var scanner = RecordScanner(UnsafeRawBufferPointer(rebasing: payload[..<payloadCount]), from: start)
        let record: RecordScanner.Record?
        do {
            record = try scanner.next()
        } catch {
            return malformed(start, error.reason)
        }
        switch record {
        case let .timed(kind, delta, fields)?:
            return timedEvent(kind, delta: delta, fields: fields, from: start, next: scanner.position)
        case let .string(id, bytes)?:
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: payload[bytes]), as: UTF8.self)
            position = scanner.position
            if !strings.define(id: id, text: text) { throw .stringTableTooLarge(offset: chunkOffset) }
        case let .unknownExtension(kind)?:
            skippedKinds[kind, default: 0] += 1
            position = scanner.position
        case nil:
            position = payloadCount
        }
        return nil
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
        let chunk = try chunks.nextChunk { notice in
            // A truncated end is reported once, and always; damage counts against `maxNotices`.
            if case .truncated = notice { notices.append(notice) } else { note(notice) }
        }
        guard let chunk else { return false }
        chunkOffset = chunk.offset
        chunkTime = 0
        payloadCount = chunk.count
        return true
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
}
