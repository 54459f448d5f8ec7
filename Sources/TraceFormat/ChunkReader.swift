#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a trace's chunks, in file order, from a file or from memory: finds each chunk by its marker, checks its
/// lengths and CRC, and inflates its payload. Knows nothing of records (`TraceReader` decodes them).
///
/// Memory is one read buffer (grown only for a chunk larger than a read) and one inflated payload. Damage is
/// reported to the caller and skipped: a chunk with a bad CRC is dropped and the next one is found by its marker,
/// within a budget that keeps recovery linear in the file's size.
final class ChunkReader {
    enum Source {
        case file(Int32)
        case memory
    }
    private let source: Source
    /// Read buffer: `buffer[bufferStart..<bufferEnd]` are file bytes not yet consumed. Its storage is allocated
    /// once (grown only for a chunk larger than a read) and reused: `fill` compacts and reads into it in place.
    private var buffer: [UInt8]
    private var bufferStart = 0
    private var bufferEnd = 0
    private var bufferFileOffset: UInt64 = 0
    private var atEOF: Bool
    private static let readSize = 1 << 20
    /// Bytes of candidate chunks whose CRC was checked and did not match.
    private var rejectedBytes: UInt64 = 0

    /// The current chunk's inflated records. Raw memory owned by the reader, so that decoding a record is plain
    /// pointer reads (no closure, no array bounds or uniqueness checks); grown on demand, never shrunk.
    private(set) var payload = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private let inflater = Zlib.Inflater()

    /// File bytes consumed so far.
    var bytesConsumed: UInt64 { bufferFileOffset + UInt64(bufferStart) }

    /// Reads from `source`: an open descriptor (closed with the reader), or `bytes` held in memory.
    init(source: Source, bytes: [UInt8]) {
        self.source = source
        self.buffer = bytes
        self.bufferEnd = bytes.count
        self.atEOF = { if case .memory = source { true } else { false } }()
    }

    deinit {
        if case let .file(fd) = source { closeDescriptor(fd) }
        payload.deallocate()
    }

    /// Up to `count` bytes from the current position (fewer only at the end of the file), not consumed.
    func peek(_ count: Int) throws(TraceReadError) -> ArraySlice<UInt8> {
        try fill(atLeast: count)
        return buffer[bufferStart..<min(bufferEnd, bufferStart + count)]
    }

    /// Consumes `count` bytes that `peek` returned.
    func skip(_ count: Int) {
        bufferStart += count
    }

    /// Inflates the next intact chunk into `payload`; returns its file offset and raw length, or nil at the end of
    /// the file. Each damaged chunk skipped on the way, and a truncated end, is handed to `report`.
    func nextChunk(report: (ReadNotice) -> Void) throws(TraceReadError) -> (offset: UInt64, count: Int)? {
        while true {
            let offset = bytesConsumed
            try fill(atLeast: TraceLayout.chunkHeaderSize)
            let available = bufferEnd - bufferStart
            if available == 0 { return nil }
            if available < TraceLayout.chunkHeaderSize {
                report(.truncated(offset: offset))
                return nil
            }
            guard hasMarker(at: bufferStart) else {
                try resync(from: offset, reason: "no chunk marker", report: report)
                continue
            }
            let compressedLength = Int(buffer.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[bufferStart...]).loadLittleEndianUInt32(at: 4) })
            let rawLength = Int(buffer.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[bufferStart...]).loadLittleEndianUInt32(at: 8) })
            let storedCRC = buffer.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[bufferStart...]).loadLittleEndianUInt32(at: 12) }
            guard compressedLength > 0, compressedLength <= TraceLayout.maxChunkCompressedLength,
                  rawLength > 0, rawLength <= TraceLayout.maxChunkRawLength else {
                try resync(from: offset, reason: "implausible lengths (compressed \(compressedLength), raw \(rawLength))", report: report)
                continue
            }
            let total = TraceLayout.chunkHeaderSize + compressedLength
            try fill(atLeast: total)
            if bufferEnd - bufferStart < total {
                // The file ends before the declared end: truncation, unless the length field was damaged and
                // another chunk follows.
                if try nextMarker(after: bufferStart + 1) != nil {
                    try resync(from: offset, reason: "its length runs past the end of the file", report: report)
                    continue
                }
                report(.truncated(offset: offset))
                bufferStart = bufferEnd
                return nil
            }
            let crc = buffer.withUnsafeBytes { bytes in
                ChunkFramer.crc(UnsafeRawBufferPointer(rebasing: bytes[bufferStart..<bufferStart + total]))
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
                    report(.corruptChunk(offset: offset, reason: "CRC mismatch"))
                    bufferStart = next
                } else {
                    try resync(from: offset, reason: "CRC mismatch", report: report)
                }
                continue
            }
            if payload.count < rawLength {
                payload.deallocate()
                payload = .allocate(byteCount: max(rawLength, TraceLayout.defaultChunkRawLength), alignment: 16)
            }
            let output = payload
            let inflater = inflater
            let inflated = buffer.withUnsafeBytes { bytes in
                Result { () throws(Zlib.InflateFailure) in
                    try inflater.inflate(UnsafeRawBufferPointer(rebasing: bytes[bufferStart + 16..<bufferStart + total]),
                                         rawLength: rawLength, into: output)
                }
            }
            bufferStart += total
            if case let .failure(failure) = inflated {
                let reason = switch failure {
                case .longerThanDeclared: "inflates to more than its declared \(rawLength) bytes"
                case let .shorterThanDeclared(n): "inflates to \(n) bytes, not the declared \(rawLength)"
                case .invalidStream: "invalid zlib data"
                }
                report(.corruptChunk(offset: offset, reason: reason))
                continue
            }
            return (offset, rawLength)
        }
    }

    /// Reports damage at `offset` and moves to the next chunk marker after it (or to the end of the file).
    private func resync(from offset: UInt64, reason: String, report: (ReadNotice) -> Void) throws(TraceReadError) {
        report(.corruptChunk(offset: offset, reason: reason))
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
                    // safe: a tail of bytes means the buffer is not empty, so it has a base address
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
}
