/// The fixed numbers of the file layout. `Docs/TraceFormat.md` describes the same bytes.
public enum TraceLayout {
    /// `\x89CTRACE\n`: the high first byte catches 7-bit transfers, the newline catches line-ending rewrites.
    public static let magic: [UInt8] = [0x89, 0x43, 0x54, 0x52, 0x41, 0x43, 0x45, 0x0A]
    public static let majorVersion: UInt16 = 1
    public static let minorVersion: UInt16 = 1
    /// magic (8) + major (2) + minor (2) + reserved (4).
    public static let headerSize = 16

    /// `CTCK`: starts every chunk, so a reader can find the next chunk after a damaged one.
    public static let chunkMarker: [UInt8] = [0x43, 0x54, 0x43, 0x4B]
    /// marker (4) + compressed length (4) + raw length (4) + CRC-32 (4).
    public static let chunkHeaderSize = 16
    /// No chunk inflates to more than this. Readers reject larger declared sizes, which bounds their memory.
    public static let maxChunkRawLength = 16 << 20
    /// No chunk's compressed payload is larger than this (zlib's worst case for the largest raw chunk, rounded up).
    public static let maxChunkCompressedLength = (16 << 20) + (64 << 10)
    /// The raw size at which recorders close a chunk by default.
    public static let defaultChunkRawLength = 64 << 10

    /// Longest string a `string` record may define.
    public static let maxStringLength = 65_535
    /// Most strings a trace may define; with `maxStringLength` this bounds a reader's string table.
    public static let maxStringCount = 1 << 20
    /// Most bytes of string data a trace may define.
    public static let maxStringTableBytes = 64 << 20
    /// Most metadata items a reader keeps in `TraceInfo`; later `info` records are still yielded as events.
    public static let maxInfoItems = 1_024

    /// The 16-byte file header for this version.
    public static var header: [UInt8] {
        var bytes = magic
        bytes.appendLittleEndian(UInt32(majorVersion) | UInt32(minorVersion) << 16)
        bytes.appendLittleEndian(UInt32(0))
        return bytes
    }
}

extension Array where Element == UInt8 {
    @inlinable
    mutating func appendLittleEndian(_ value: UInt32) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
        append(UInt8(truncatingIfNeeded: value >> 16))
        append(UInt8(truncatingIfNeeded: value >> 24))
    }
}

extension UnsafeRawBufferPointer {
    @inlinable
    func loadLittleEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) | UInt32(self[offset + 1]) << 8 | UInt32(self[offset + 2]) << 16 | UInt32(self[offset + 3]) << 24
    }
}
