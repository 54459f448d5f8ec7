import Testing
import TraceTestSupport
@testable import TraceFormat

/// The chunk CRC-32 (`Zlib.crc32`, carry-less multiplies for the bulk where the CPU has them) against the
/// polynomial's definition, one bit at a time: every length around the fast path's 64-byte minimum and 16-byte
/// steps, every start offset in a 16-byte block, and split buffers continuing from a previous CRC.
@Suite struct CRC32Tests {
    /// CRC-32 (reflected 0x04C11DB7, inverted in and out), bit by bit.
    static func reference(_ bytes: some Sequence<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        var register = ~crc
        for byte in bytes {
            register ^= UInt32(byte)
            for _ in 0..<8 { register = register & 1 == 1 ? (register >> 1) ^ 0xEDB8_8320 : register >> 1 }
        }
        return ~register
    }

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var random = SplitMix64(seed: seed)
        return random.bytes(count)
    }

    @Test func knownValueOfTheStandardCheckString() {
        let check = Array("123456789".utf8)
        #expect(check.withUnsafeBytes { Zlib.crc32($0) } == 0xCBF4_3926)
        let long = Array(repeating: check, count: 20).flatMap { $0 }  // 180 bytes: the folding path
        #expect(long.withUnsafeBytes { Zlib.crc32($0) } == Self.reference(long))
    }

    @Test func everyLengthAndAlignmentMatchesTheDefinition() {
        let bytes = Self.randomBytes(600, seed: 16)
        for start in 0..<16 {
            for count in 0...(bytes.count - start) where count < 200 || count % 37 == 0 {
                let slice = bytes[start..<(start + count)]
                let crc = slice.withUnsafeBytes { Zlib.crc32($0) }
                #expect(crc == Self.reference(slice), "offset \(start), \(count) bytes")
            }
        }
    }

    @Test(arguments: [0, 1, 63, 64, 65, 127, 128, 4096, 65_537])
    func continuingFromAPreviousCRCMatchesOneCall(split: Int) {
        let bytes = Self.randomBytes(70_000, seed: UInt64(split) &+ 1)
        let whole = bytes.withUnsafeBytes { Zlib.crc32($0) }
        #expect(whole == Self.reference(bytes))
        let first = bytes.withUnsafeBytes { Zlib.crc32(UnsafeRawBufferPointer(rebasing: $0[..<split])) }
        let both = bytes.withUnsafeBytes { Zlib.crc32(UnsafeRawBufferPointer(rebasing: $0[split...]), continuing: first) }
        #expect(both == whole)
    }
}
