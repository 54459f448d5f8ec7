#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a trace file: the header, then one chunk per `writeChunk(_:)`.
///
/// Not thread-safe: one owner (the recorder's background writer, a test, the generator) calls it.
/// Each chunk is written with a single `write` of header and payload, so a killed process leaves every
/// chunk that `writeChunk` returned from complete on disk.
public final class TraceFileWriter: ChunkSink {
    public let path: String
    private var fd: Int32
    private var framer: ChunkFramer
    private var chunkBytes: [UInt8] = []
    /// Whether the file is emptied and given its header at the first write (`init(lockingPath:)`).
    private var headerPending = false
    /// Bytes written so far, header included.
    public private(set) var bytesWritten: UInt64 = 0
    public private(set) var chunksWritten: Int = 0

    /// Creates (or truncates) `path` and writes the file header.
    /// - Parameter compressionLevel: zlib level 1 (fastest) … 9 (smallest).
    public init(path: String, compressionLevel: Int32 = 6) throws(TraceWriteError) {
        self.path = path
        self.framer = ChunkFramer(compressionLevel: compressionLevel)
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw .cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        try writeAll(TraceLayout.header)
    }

    /// Opens `path` for one recording: creates it if needed and takes an exclusive lock on it (`flock`), so a
    /// second recorder — in this process or another — is refused instead of mixing its chunks into the file.
    /// Nothing in the file changes until the first chunk is written: then it is emptied and the header written.
    /// A writer that is dropped before that (say, because recording was refused) leaves the file as it was.
    public init(lockingPath path: String, compressionLevel: Int32 = 6) throws(TraceWriteError) {
        self.path = path
        self.framer = ChunkFramer(compressionLevel: compressionLevel)
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw .cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno == EWOULDBLOCK ? "another recorder is writing it" : String(cString: strerror(errno))
            closeDescriptor(fd)
            fd = -1
            throw .cannotCreate(path: path, reason: reason)
        }
        headerPending = true
    }

    deinit {
        if fd >= 0 { closeDescriptor(fd) }
    }

    /// Compresses `payload` (records from an `EventEncoder`) and appends it as one chunk. Empty payloads are skipped.
    public func writeChunk(_ payload: [UInt8]) throws(TraceWriteError) {
        guard !payload.isEmpty else { return }
        try writeHeaderIfPending()
        chunkBytes.removeAll(keepingCapacity: true)
        framer.append(payload: payload, to: &chunkBytes)
        try writeAll(chunkBytes)
        chunksWritten += 1
    }

    /// Appends chunks framed already (by a `ChunkFramer`), as they are: the flight recorder's ring keeps its chunks
    /// framed and writes them out from memory.
    public func writeFramedChunks(_ chunks: [UInt8]) throws(TraceWriteError) {
        guard !chunks.isEmpty else { return }
        try writeHeaderIfPending()
        try writeAll(chunks)
    }

    /// Asks the kernel to put the file on disk (fsync). Not needed for crash safety against a killed process.
    public func sync() { if fd >= 0 { _ = fsync(fd) } }

    private func writeHeaderIfPending() throws(TraceWriteError) {
        guard headerPending, fd >= 0 else { return }
        if ftruncate(fd, 0) != 0 { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        try writeAll(TraceLayout.header)
        headerPending = false
    }

    /// Closes the file. Further writes fail.
    public func close() {
        if fd >= 0 { closeDescriptor(fd) }
        fd = -1
    }

    private func writeAll(_ bytes: [UInt8]) throws(TraceWriteError) {
        guard fd >= 0 else { throw .closed(path: path) }
        var failure: TraceWriteError?
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = .writeFailed(path: path, reason: String(cString: strerror(errno)))
                    return
                }
                offset += n
            }
        }
        if let failure { throw failure }
        bytesWritten += UInt64(bytes.count)
    }
}

/// Why a trace could not be written.
public enum TraceWriteError: Error, CustomStringConvertible, Sendable {
    case cannotCreate(path: String, reason: String)
    case writeFailed(path: String, reason: String)
    case closed(path: String)

    public var description: String {
        switch self {
        case let .cannotCreate(path, reason): "cannot create \(path): \(reason)"
        case let .writeFailed(path, reason): "cannot write \(path): \(reason)"
        case let .closed(path): "\(path) is already closed"
        }
    }
}

func closeDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}
