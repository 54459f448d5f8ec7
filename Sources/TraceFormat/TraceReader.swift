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
    /// Notices about damaged chunks and records, and backwards times, past the first `maxNotices`: counted, not kept,
    /// so that a file that is damage from end to end cannot grow `notices` without bound.
    public private(set) var elidedNotices = 0
    /// Most damage and backwards-time notices `notices` keeps.
    public static let maxNotices = 1_000
    /// Whether the recorder's `close` record was read.
    public private(set) var sawClose = false
    /// File bytes consumed so far, for progress.
    public var bytesConsumed: UInt64 { bufferFileOffset + UInt64(bufferStart) }
    /// Events yielded so far.
    public private(set) var eventCount = 0
    /// Whether any chunk or record was skipped because it was damaged.
    public var sawDamage: Bool { elidedDamage || notices.contains { $0.isDamage } }

    private enum Source {
        case file(Int32)
        case memory
    }
    private var source: Source
    private var buffer: [UInt8]
    private var bufferStart = 0
    private var bufferFileOffset: UInt64 = 0
    private var atEOF = false
    private static let readSize = 1 << 20

    private var payload: [UInt8] = []
    private var payloadCount = 0
    private var position = 0
    private var chunkOffset: UInt64 = 0
    private var chunkTime: UInt64 = 0
    private var lastTime: UInt64 = 0
    private var finished = false
    private var skippedKinds: [UInt8: Int] = [:]
    private var backwardsNoticeChunk: UInt64?
    private var elidedDamage = false
    /// Bytes of candidate chunks whose CRC was checked and did not match.
    private var rejectedBytes: UInt64 = 0

    /// Opens `path` and checks its header.
    public convenience init(path: String) throws(TraceReadError) {
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
        self.atEOF = { if case .memory = source { true } else { false } }()
        self.version = (0, 0)
        try fill(atLeast: TraceLayout.headerSize)
        let available = buffer.count
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

    // MARK: Records

    private func decodeRecord() throws(TraceReadError) -> TraceEvent? {
        let start = position
        var failure: String?
        var result: TraceEvent?
        var stringDefinition: (id: UInt64, text: String)?
        payload.withUnsafeBufferPointer { bytes in
            let end = payloadCount
            var p = position
            @inline(__always) func varint() -> UInt64? {
                var value: UInt64 = 0
                var shift: UInt64 = 0
                while p < end {
                    let byte = bytes[p]
                    p += 1
                    if shift == 63 && byte > 1 { return nil }
                    value |= UInt64(byte & 0x7F) << shift
                    if byte < 0x80 { return value }
                    shift += 7
                    if shift > 63 { return nil }
                }
                return nil
            }
            let raw = bytes[p]
            p += 1
            if raw >= EventKind.firstExtensionKind {
                guard let length = varint(), length <= UInt64(end - p) else { failure = "extension record runs past the chunk"; return }
                p += Int(length)
                skippedKinds[raw, default: 0] += 1
                position = p
                return
            }
            guard let kind = EventKind(rawValue: raw) else { failure = "unknown event kind 0x\(String(raw, radix: 16))"; return }
            if kind == .string {
                guard let id = varint(), let length = varint() else { failure = "string record runs past the chunk"; return }
                guard length <= UInt64(TraceLayout.maxStringLength) else { failure = "string #\(id) is \(length) bytes, over the 65535-byte limit"; return }
                guard length <= UInt64(end - p) else { failure = "string record runs past the chunk"; return }
                guard id > 0, id <= UInt64(TraceLayout.maxStringCount) else { failure = "string id \(id) out of range"; return }
                stringDefinition = (id, String(decoding: UnsafeBufferPointer(rebasing: bytes[p..<p + Int(length)]), as: UTF8.self))
                p += Int(length)
                position = p
                return
            }
            guard let delta = varint() else { failure = "record runs past the chunk"; return }
            var fields: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            let count = EventKind.fieldCounts[Int(raw)]
            if count > 0 { guard let v = varint() else { failure = "record runs past the chunk"; return }; fields.0 = v }
            if count > 1 { guard let v = varint() else { failure = "record runs past the chunk"; return }; fields.1 = v }
            if count > 2 { guard let v = varint() else { failure = "record runs past the chunk"; return }; fields.2 = v }
            if count > 3 { guard let v = varint() else { failure = "record runs past the chunk"; return }; fields.3 = v }
            let (sum, overflow) = chunkTime.addingReportingOverflow(delta)
            guard !overflow else { failure = "time overflows 64 bits"; return }
            chunkTime = sum
            position = p
            result = TraceEvent(kind: kind, time: chunkTime, fields: fields)
        }
        if let failure {
            note(.malformedRecord(chunkOffset: chunkOffset, payloadOffset: start, reason: failure))
            position = payloadCount
            return nil
        }
        if let (id, text) = stringDefinition {
            if !strings.define(id: id, text: text) { throw .stringTableTooLarge(offset: chunkOffset) }
            return nil
        }
        guard var event = result else { return nil }
        if event.time < lastTime {
            if backwardsNoticeChunk != chunkOffset {
                backwardsNoticeChunk = chunkOffset
                note(.timeWentBackwards(chunkOffset: chunkOffset))
            }
            event.time = lastTime
        }
        lastTime = event.time
        switch event.kind {
        case .info where info.items.count < TraceLayout.maxInfoItems:
            info.append(key: strings[event.infoKey], value: strings[event.infoValue])
        case .close: sawClose = true
        default: break
        }
        return event
    }

    // MARK: Chunks

    /// Makes the next intact chunk current. Returns false at the end of the file.
    private func loadNextChunk() throws(TraceReadError) -> Bool {
        payloadCount = 0
        position = 0
        while true {
            let offset = bytesConsumed
            try fill(atLeast: TraceLayout.chunkHeaderSize)
            let available = buffer.count - bufferStart
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
            if buffer.count - bufferStart < total {
                // The file ends before the declared end: truncation, unless the length field was damaged and
                // another chunk follows.
                if try nextMarker(after: bufferStart + 1) != nil {
                    try resync(from: offset, reason: "its length runs past the end of the file")
                    continue
                }
                notices.append(.truncated(offset: offset))
                bufferStart = buffer.count
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
                if (next == buffer.count && atEOF) || (next + 4 <= buffer.count && hasMarker(at: next)) || overBudget {
                    note(.corruptChunk(offset: offset, reason: "CRC mismatch"))
                    bufferStart = next
                } else {
                    try resync(from: offset, reason: "CRC mismatch")
                }
                continue
            }
            let inflated = buffer.withUnsafeBytes { bytes in
                Result { () throws(Zlib.InflateFailure) in
                    try Zlib.inflate(UnsafeRawBufferPointer(rebasing: bytes[bufferStart + 16..<bufferStart + total]),
                                     rawLength: rawLength, into: &payload)
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
            bufferStart = buffer.count
        }
    }

    /// Index in `buffer` of the next chunk marker at or after `index`, reading more as needed;
    /// bytes before it are dropped from the buffer.
    private func nextMarker(after index: Int) throws(TraceReadError) -> Int? {
        var i = index
        while true {
            while i + 4 <= buffer.count {
                if hasMarker(at: i) { return i }
                i += 1
            }
            if atEOF { return nil }
            // Nothing before `i` can start a marker: drop it, keeping a marker that may straddle the read boundary.
            bufferStart = max(bufferStart, i)
            let before = buffer.count - bufferStart
            try fill(atLeast: before + 1)
            i = bufferStart
        }
    }

    private func hasMarker(at index: Int) -> Bool {
        index + 4 <= buffer.count
            && buffer[index] == 0x43 && buffer[index + 1] == 0x54 && buffer[index + 2] == 0x43 && buffer[index + 3] == 0x4B
    }

    /// Makes at least `count` bytes available from `bufferStart`, unless the file ends first.
    private func fill(atLeast count: Int) throws(TraceReadError) {
        guard case let .file(fd) = source else { return }
        while buffer.count - bufferStart < count && !atEOF {
            if bufferStart > 0 {
                buffer.removeSubrange(0..<bufferStart)
                bufferFileOffset += UInt64(bufferStart)
                bufferStart = 0
            }
            let want = max(Self.readSize, count - buffer.count)
            let old = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: want))
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + old, want) }
            if n < 0 {
                buffer.removeSubrange(old...)
                if errno == EINTR { continue }
                throw .readFailed(offset: bufferFileOffset + UInt64(old), reason: String(cString: strerror(errno)))
            }
            buffer.removeSubrange((old + n)...)
            if n == 0 { atEOF = true }
        }
    }

    /// Keeps a notice about damage or backwards time, or counts it once `maxNotices` are kept.
    private func note(_ notice: ReadNotice) {
        if notices.count < Self.maxNotices {
            notices.append(notice)
        } else {
            elidedNotices += 1
            elidedDamage = elidedDamage || notice.isDamage
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
