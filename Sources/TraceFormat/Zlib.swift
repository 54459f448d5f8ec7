import CZlib

/// The zlib calls the format needs, with the bounds a reader of untrusted files must keep.
enum Zlib {
    /// CRC-32 (the zlib/PNG polynomial) of `bytes`, continuing from `crc`: zlib's `crc32`, with carry-less
    /// multiplies for the bulk where the CPU has them (`CZlib/CRC32.h`).
    static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return cancel_trace_crc32(crc, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// Compresses `input` as one zlib stream (RFC 1950), replacing the contents of `output`
    /// (whose storage is reused between chunks).
    static func compress(_ input: UnsafeRawBufferPointer, level: Int32, into output: inout [UInt8]) {
        let bound = Int(compressBound(uLong(input.count)))
        output.removeAll(keepingCapacity: true)
        output.append(contentsOf: repeatElement(0, count: bound))
        var produced = uLong(bound)
        let status = output.withUnsafeMutableBufferPointer { buffer in
            compress2(buffer.baseAddress, &produced,
                      input.baseAddress?.assumingMemoryBound(to: Bytef.self), uLong(input.count), level)
        }
        // compress2 only fails for lack of memory or space; compressBound rules out the second.
        precondition(status == Z_OK, "zlib compress2 failed (\(status))")
        output.removeSubrange(Int(produced)...)
    }

    enum InflateFailure: Error {
        /// The stream produced more than the declared size: corrupt, or a decompression bomb.
        case longerThanDeclared
        case shorterThanDeclared(Int)
        case invalidStream
    }

    /// Inflates chunk payloads, one zlib stream each, reusing one stream's state from chunk to chunk.
    ///
    /// Does not compute the streams' Adler-32 of their output (`inflateValidate(…, 0)`): the chunk's CRC-32, checked
    /// before inflating, already covers every compressed byte, so the checksum could only catch a fault in zlib
    /// itself, and it cost a fifth of inflating (callgrind, Docs/Performance.md). Everything else is checked as
    /// `uncompress` checks it: a stream that is malformed, ends early, or inflates to more or fewer bytes than
    /// declared fails the same way.
    final class Inflater {
        private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        private var ready = false

        init() { stream.initialize(to: z_stream()) }

        deinit {
            if ready { inflateEnd(stream) }
            stream.deallocate()
        }

        /// Inflates `input` into exactly `rawLength` bytes of `output` (which has room for them); never writes more.
        func inflate(_ input: UnsafeRawBufferPointer, rawLength: Int, into output: UnsafeMutableRawBufferPointer) throws(InflateFailure) {
            precondition(output.count >= rawLength)  // safe: the chunk reader sizes `output` to `rawLength` first
            if ready {
                guard inflateReset(stream) == Z_OK else { throw .invalidStream }
            } else {
                guard inflateInit_(stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw .invalidStream }
                ready = true
            }
            guard inflateValidate(stream, 0) == Z_OK else { throw .invalidStream }
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
            stream.pointee.avail_in = uInt(input.count)
            stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(rawLength)
            // All input and all the room at once: one call, and no sliding window kept.
            let status = CZlib.inflate(stream, Z_FINISH)
            let produced = rawLength - Int(stream.pointee.avail_out)
            switch status {
            case Z_STREAM_END where produced == rawLength: return
            case Z_STREAM_END: throw .shorterThanDeclared(produced)
            // No room left before the stream's end (with room left, the input ended first: malformed).
            case Z_BUF_ERROR where stream.pointee.avail_out == 0: throw .longerThanDeclared
            default: throw .invalidStream
            }
        }
    }
}
