import CZlib

/// gzip (RFC 1952) in memory, from the system's zlib, for exports that tools open compressed.
enum Gzip {
    enum Failure: Error, CustomStringConvertible {
        case zlib(Int32)
        var description: String {
            if case let .zlib(status) = self { return "zlib deflate failed (\(status))" }
            return ""
        }
    }

    static func compress(_ input: [UInt8], level: Int32 = 6) throws(Failure) -> [UInt8] {
        var stream = z_stream()
        // windowBits 15 + 16 asks zlib for a gzip header and trailer instead of a zlib one.
        var status = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw .zlib(status) }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(input.count))) + 32)
        var input = input
        status = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw .zlib(status) }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }
}

/// gzip as a stream: `compress` takes the input in pieces and returns what zlib has ready, so an export of any
/// size is compressed in fixed memory.
public final class GzipStream {
    // On the heap: zlib's state points back at the stream, so it must not move.
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private var output = [UInt8](repeating: 0, count: 1 << 16)

    public init(level: Int32 = 6) throws {
        stream.initialize(to: z_stream())
        let status = deflateInit2_(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw Gzip.Failure.zlib(status)
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Compresses `input`; with `finish`, ends the gzip member. Returns the compressed bytes ready so far.
    public func compress(_ input: [UInt8], finish: Bool = false) throws -> [UInt8] {
        var input = input
        var result: [UInt8] = []
        let status: Int32 = input.withUnsafeMutableBufferPointer { source in
            stream.pointee.next_in = source.baseAddress
            stream.pointee.avail_in = uInt(source.count)
            var status: Int32 = Z_OK
            repeat {
                status = output.withUnsafeMutableBufferPointer { target in
                    stream.pointee.next_out = target.baseAddress
                    stream.pointee.avail_out = uInt(target.count)
                    return deflate(stream, finish ? Z_FINISH : Z_NO_FLUSH)
                }
                result += output[..<(output.count - Int(stream.pointee.avail_out))]
                if status != Z_OK && status != Z_BUF_ERROR { break }
            } while stream.pointee.avail_out == 0 || (finish && status != Z_STREAM_END)
            return status
        }
        guard status == Z_OK || status == Z_BUF_ERROR || status == Z_STREAM_END else { throw Gzip.Failure.zlib(status) }
        return result
    }
}
