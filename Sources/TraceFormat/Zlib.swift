import CZlib

/// The three zlib calls the format needs, with the bounds a reader of untrusted files must keep.
enum Zlib {
    /// CRC-32 (the zlib/PNG polynomial) of `bytes`, continuing from `crc`.
    static func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return UInt32(CZlib.crc32(uLong(crc), base.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
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

    /// Inflates `input` into exactly `rawLength` bytes of `output` (which has room for them); never writes more.
    static func inflate(_ input: UnsafeRawBufferPointer, rawLength: Int, into output: UnsafeMutableRawBufferPointer) throws(InflateFailure) {
        precondition(output.count >= rawLength)
        var produced = uLong(rawLength)
        let status = uncompress(output.baseAddress?.assumingMemoryBound(to: Bytef.self), &produced,
                                input.baseAddress?.assumingMemoryBound(to: Bytef.self), uLong(input.count))
        switch status {
        case Z_OK where Int(produced) == rawLength: return
        case Z_OK: throw .shorterThanDeclared(Int(produced))
        case Z_BUF_ERROR where Int(produced) == rawLength: throw .longerThanDeclared
        default: throw .invalidStream
        }
    }
}
