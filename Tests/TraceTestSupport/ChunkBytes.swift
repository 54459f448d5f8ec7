import TraceFormat

/// Byte offsets where each chunk of a trace starts, found by walking the framing from the header on (no CRC
/// check): the places a test cuts, flips or repairs.
public func chunkOffsets(_ bytes: [UInt8]) -> [Int] {
    var offsets: [Int] = []
    var offset = TraceLayout.headerSize
    while offset + TraceLayout.chunkHeaderSize <= bytes.count {
        offsets.append(offset)
        offset += TraceLayout.chunkHeaderSize + compressedLength(bytes, chunkAt: offset)
    }
    return offsets
}

/// The compressed length the chunk at `offset` declares.
public func compressedLength(_ bytes: [UInt8], chunkAt offset: Int) -> Int {
    Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16 | Int(bytes[offset + 7]) << 24
}

/// `value` as 4 little-endian bytes, as the chunk header stores its lengths and CRC.
public func le32(_ value: Int) -> [UInt8] {
    (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}

/// A chunk around `compressed` bytes that declares `rawLength`, with the CRC that matches: for chunks whose
/// payload or declared size a `ChunkFramer` would refuse to write.
public func framedChunk(compressed: [UInt8], rawLength: Int) -> [UInt8] {
    var chunk = TraceLayout.chunkMarker + le32(compressed.count) + le32(rawLength) + le32(0) + compressed
    fixCRC(&chunk, chunkAt: 0)
    return chunk
}

/// Rewrites the CRC of the chunk at `offset` to match its (edited) lengths and payload, as far as the file holds
/// it, so that only the check under test can catch the edit.
public func fixCRC(_ bytes: inout [UInt8], chunkAt offset: Int) {
    let end = min(bytes.count, offset + TraceLayout.chunkHeaderSize + compressedLength(bytes, chunkAt: offset))
    let crc = bytes.withUnsafeBytes { ChunkFramer.crc(UnsafeRawBufferPointer(rebasing: $0[offset..<end])) }
    bytes.replaceSubrange(offset + 12..<offset + 16, with: le32(Int(crc)))
}

/// Rewrites the CRC of every chunk that the file holds whole.
public func repairCRCs(_ bytes: inout [UInt8]) {
    for offset in chunkOffsets(bytes)
    where offset + TraceLayout.chunkHeaderSize + compressedLength(bytes, chunkAt: offset) <= bytes.count {
        fixCRC(&bytes, chunkAt: offset)
    }
}
