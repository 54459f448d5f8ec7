import Foundation
import Testing
@testable import TraceFormat
import TraceTestSupport

/// The bad-input matrix of Docs/Reliability.md, for the parts DamageTests does not already cover: each input gets a
/// one-line error or the documented recovery, and what the reader keeps stays within its documented bounds.
@Suite struct BadInputTests {
    // MARK: Not a trace at all

    @Test func randomBytesAreNotATraceInOneLine() {
        var random = SplitMix64(seed: 1)
        for size in [1, 15, 16, 17, 4096, 1 << 16] {
            var bytes = random.bytes(size)
            if bytes[0] == TraceLayout.magic[0] { bytes[0] = 0 }
            #expect(throws: TraceReadError.self) { try TraceReader(bytes: bytes) }
            do {
                _ = try TraceReader(bytes: bytes)
            } catch {
                #expect(!"\(error)".contains("\n") && "\(error)".hasPrefix("not a trace"), "\(error)")
            }
        }
    }

    @Test func randomBytesBehindAValidHeaderYieldNothingAndSayWhy() throws {
        var random = SplitMix64(seed: 2)
        let bytes = TraceLayout.header + random.bytes(1 << 20)
        let (events, reader) = try readAll(bytes)
        #expect(events.isEmpty)
        #expect(reader.sawDamage)
        for notice in reader.notices { #expect(!"\(notice)".contains("\n")) }
    }

    @Test func aMultiLineTextFileIsNamedAsText() {
        let text = "# Notes\n\nThis is not a trace. Ünïcödé is fine.\r\n\tIndented line.\n"
        #expect(throws: TraceReadError.notATrace(looksLike: "a text file")) { try TraceReader(bytes: Array(text.utf8)) }
        #expect("\(TraceReadError.notATrace(looksLike: "a text file"))"
                == "not a trace: this looks like a text file (expected the bytes \\x89CTRACE\\n at byte 0)")
    }

    @Test func aGzippedTraceIsNamedAsGzipNotRead() throws {
        // gzip member header (RFC 1952) in front of a trace's bytes: what `gzip app.ctrace` leaves.
        let (trace, _) = try smallTrace()
        let gzip: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03] + trace
        #expect(throws: TraceReadError.notATrace(looksLike: "a gzip file")) { try TraceReader(bytes: gzip) }
    }

    @Test(arguments: [UInt16(0), 2, 3, 0x100, 0xFFFF])
    func anotherMajorVersionIsRejectedInOneLine(major: UInt16) throws {
        var (bytes, _) = try smallTrace()
        bytes[8] = UInt8(truncatingIfNeeded: major)
        bytes[9] = UInt8(truncatingIfNeeded: major >> 8)
        #expect(throws: TraceReadError.unsupportedVersion(major: major, minor: TraceLayout.minorVersion)) { try TraceReader(bytes: bytes) }
        #expect("\(TraceReadError.unsupportedVersion(major: major, minor: TraceLayout.minorVersion))"
                == "unsupported trace format version \(major).\(TraceLayout.minorVersion): this reader understands 1.x")
    }

    // MARK: Newer writers

    @Test func aNewerMinorVersionWithExtensionKindsReadsEveryCoreEvent() throws {
        var encoder = EventEncoder()
        encoder.append(.spawn(time: 5, task: 1, parent: 0, name: 0, how: .root))
        encoder.appendExtension(kind: 0xA0, body: [])
        encoder.appendExtension(kind: 0xFF, body: [UInt8](repeating: 0x11, count: 70_000))
        encoder.append(.cancel(time: 6, task: 1, by: 0, reason: .shutdown))
        encoder.appendExtension(kind: 0xA0, body: [0x16, 0x00, 0x01])  // looks like a core record inside: skipped whole
        encoder.append(.end(time: 9, task: 1, outcome: .cancelled))
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        var bytes = trace.bytes
        bytes[10] = 9
        let (events, reader) = try readAll(bytes)
        #expect(events.map(\.kind) == [.spawn, .cancel, .end])
        #expect(reader.notices.first == .newerMinorVersion(major: 1, minor: 9))
        #expect(reader.notices.contains(.skippedUnknownKind(kind: 0xA0, count: 2)))
        #expect(reader.notices.contains(.skippedUnknownKind(kind: 0xFF, count: 1)))
        #expect(!reader.sawDamage)
    }

    @Test func anExtensionRecordLongerThanItsChunkIsMalformed() throws {
        var payload: [UInt8] = [0x90]
        payload.appendVarint(1_000)
        payload += [1, 2, 3]
        var trace = InMemoryTrace()
        trace.writeChunk(payload)
        let (events, reader) = try readAll(trace.bytes)
        #expect(events.isEmpty)
        #expect(reader.notices.first == .malformedRecord(chunkOffset: 16, payloadOffset: 0, reason: "extension record runs past the chunk"))
    }

    // MARK: Lengths and bombs

    @Test func aRawLengthOfFourGiBWithAMatchingCRCIsCorruptNotAnAllocation() throws {
        let (bytes, written) = try smallTrace(chunkSize: 40)
        var damaged = bytes
        let first = chunkOffsets(bytes)[0]
        for i in 8..<12 { damaged[first + i] = 0xFF }
        fixCRC(&damaged, chunkAt: first)
        let (events, reader) = try readAll(damaged)
        #expect(reader.notices.first.map { "\($0)" }?.contains("raw 4294967295") == true, "\(reader.notices)")
        #expect(events.last == written.last)
    }

    @Test func lengthsOneOverTheLimitsAreCorrupt() throws {
        for (field, value) in [(4, TraceLayout.maxChunkCompressedLength + 1), (8, TraceLayout.maxChunkRawLength + 1), (4, 0), (8, 0)] {
            var (bytes, _) = try smallTrace(chunkSize: 40)
            let first = chunkOffsets(bytes)[0]
            for i in 0..<4 { bytes[first + field + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
            fixCRC(&bytes, chunkAt: first)
            let (_, reader) = try readAll(bytes)
            #expect(reader.notices.first.map { "\($0)" }?.contains("implausible lengths") == true, "field \(field) = \(value)")
        }
    }

    @Test func aBombPastTheLargestDeclaredSizeStopsThere() throws {
        // 17 MiB of zeros compress to about 17 KiB; the chunk declares the largest raw size a reader accepts, 16 MiB.
        // (Inflation stops at the declared size, so a bigger bomb costs the reader no more; it only makes the test slow.)
        let zeros = [UInt8](repeating: 0, count: 17 << 20)
        var compressed: [UInt8] = []
        zeros.withUnsafeBytes { Zlib.compress($0, level: 9, into: &compressed) }
        var bytes = TraceLayout.header
        bytes += framedChunk(compressed: compressed, rawLength: TraceLayout.maxChunkRawLength)
        let (tail, _) = try smallTrace()
        bytes += tail[TraceLayout.headerSize...]
        let (events, reader) = try readAll(bytes)
        #expect(reader.notices.first == .corruptChunk(offset: 16, reason: "inflates to more than its declared \(TraceLayout.maxChunkRawLength) bytes"))
        #expect(events.count == (try readAll(tail).events.count))
    }

    // MARK: Strings

    @Test func aStringOfExactlyTheLimitReadsAndOneByteMoreIsMalformed() throws {
        for length in [TraceLayout.maxStringLength, TraceLayout.maxStringLength + 1] {
            var payload: [UInt8] = [EventKind.string.rawValue]
            payload.appendVarint(1)
            payload.appendVarint(UInt64(length))
            payload += [UInt8](repeating: UInt8(ascii: "x"), count: length)
            var encoder = EventEncoder()
            encoder.append(.spawn(time: 1, task: 1, parent: 0, name: 1, how: .root))
            var trace = InMemoryTrace()
            trace.writeChunk(payload + encoder.bytes)
            let (events, reader) = try readAll(trace.bytes)
            if length == TraceLayout.maxStringLength {
                #expect(events.count == 1)
                #expect(reader.strings[1].utf8.count == length)
            } else {
                #expect(events.isEmpty)
                #expect(reader.notices.first == .malformedRecord(chunkOffset: 16, payloadOffset: 0,
                                                                 reason: "string #1 is 65536 bytes, over the 65535-byte limit"))
            }
        }
    }

    @Test func aStringIdBeyondTheLimitIsMalformed() throws {
        var payload: [UInt8] = [EventKind.string.rawValue]
        payload.appendVarint(UInt64(TraceLayout.maxStringCount) + 1)
        payload.appendVarint(1)
        payload.append(UInt8(ascii: "x"))
        var trace = InMemoryTrace()
        trace.writeChunk(payload)
        let (_, reader) = try readAll(trace.bytes)
        #expect(reader.notices.first == .malformedRecord(chunkOffset: 16, payloadOffset: 0, reason: "string id 1048577 out of range"))
    }

    @Test func aStringTablePastItsByteLimitStopsTheReadInOneLineAfterTheEventsBefore() throws {
        // 1,025 strings of 65,535 bytes are just over 64 MiB.
        var trace = InMemoryTrace(compressionLevel: 1)
        var encoder = EventEncoder()
        encoder.append(.spawn(time: 1, task: 1, parent: 0, name: 0, how: .root))
        let text = [UInt8](repeating: UInt8(ascii: "s"), count: TraceLayout.maxStringLength)
        for id in 1...1_025 as ClosedRange<UInt64> {
            encoder.appendString(id: id, utf8: text)
            if encoder.bytes.count > 8 << 20 {
                trace.writeChunk(encoder.bytes)
                encoder.startChunk()
            }
        }
        trace.writeChunk(encoder.bytes)
        let reader = try TraceReader(bytes: trace.bytes)
        #expect(try reader.next()?.kind == .spawn)
        #expect(throws: TraceReadError.stringTableTooLarge(offset: UInt64(chunkOffsets(trace.bytes).last!))) { try reader.next() }
        #expect(reader.strings.totalBytes <= TraceLayout.maxStringTableBytes)
        #expect(!"\(TraceReadError.stringTableTooLarge(offset: 0))".contains("\n"))
    }

    // MARK: Times

    @Test func aTimeThatOverflows64BitsIsAMalformedRecordNotATrap() throws {
        var payload: [UInt8] = [EventKind.spawn.rawValue]
        payload.appendVarint(.max)
        payload += [1, 0, 0, 0]
        payload += [EventKind.end.rawValue]
        payload.appendVarint(1)
        payload += [1, 0, 0]
        var trace = InMemoryTrace()
        trace.writeChunk(payload)
        let (events, reader) = try readAll(trace.bytes)
        #expect(events.map(\.time) == [.max])
        #expect(reader.notices.first == .malformedRecord(chunkOffset: 16, payloadOffset: 15, reason: "time overflows 64 bits"))
    }

    @Test func timesGoingBackwardsInEveryChunkAreRaisedWithOneNoticeEach() throws {
        var trace = InMemoryTrace()
        var encoder = EventEncoder()
        for chunk in 0..<10 as Range<UInt64> {
            encoder.append(.mark(time: 1_000 - chunk * 100, task: 0, label: 0))
            encoder.append(.mark(time: 1_000 - chunk * 100 + 1, task: 0, label: 0))
            trace.writeChunk(encoder.bytes)
            encoder.startChunk()
        }
        let (events, reader) = try readAll(trace.bytes)
        #expect(events.map(\.time) == [1_000, 1_001] + [UInt64](repeating: 1_001, count: 18))
        #expect(reader.notices.filter { if case .timeWentBackwards = $0 { true } else { false } }.count == 9)
        #expect(!reader.sawDamage)
    }

    // MARK: What the reader keeps stays bounded

    @Test func aFloodOfDamagedChunkHeadersKeepsTheNoticesBounded() throws {
        // 1 MiB of chunk markers: every one of 262,144 candidate chunks is damaged.
        let bytes = TraceLayout.header + Array([[UInt8]](repeating: TraceLayout.chunkMarker, count: 1 << 18).joined())
        let (events, reader) = try readAll(bytes)
        #expect(events.isEmpty)
        #expect(reader.sawDamage)
        #expect(reader.notices.count <= TraceReader.maxNotices + 1)
        #expect(reader.notices.count + reader.elidedNotices >= (1 << 18) - 4)  // the last few are a truncation
    }

    @Test func aFloodOfMalformedChunksKeepsTheNoticesBounded() throws {
        var trace = InMemoryTrace()
        for _ in 0..<5_000 { trace.writeChunk([0x42]) }
        let (_, reader) = try readAll(trace.bytes)
        #expect(reader.notices.count <= TraceReader.maxNotices + 1)
        #expect(reader.elidedNotices == 5_000 - TraceReader.maxNotices)
    }

    @Test func aFloodOfMetadataRecordsKeepsTheMetadataBounded() throws {
        // 4-byte info records compress about a thousandfold: a small file could otherwise hold billions of items.
        var encoder = EventEncoder()
        for _ in 0..<200_000 { encoder.append(.info(time: 0, key: 0, value: 0)) }
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        let (events, reader) = try readAll(trace.bytes)
        #expect(events.count == 200_000)
        #expect(reader.info.items.count == TraceLayout.maxInfoItems)
    }

    @Test(.timeLimit(.minutes(1)))
    func overlappingFakeChunksDoNotMakeRecoveryQuadratic() throws {
        // A chunk header every 16 bytes, each declaring a plausible 2 MiB length that lies inside the file and a
        // wrong CRC. Checking each candidate's CRC from scratch would cost 2 MiB × 131,072 candidates = 256 GiB.
        var header = TraceLayout.chunkMarker + le32(2 << 20) + le32(1 << 10) + le32(0)
        header[12] = 1
        var bytes = TraceLayout.header + Array([[UInt8]](repeating: header, count: 1 << 17).joined())
        bytes += [UInt8](repeating: 0, count: 2 << 20)
        let (tail, written) = try smallTrace()
        bytes += tail[TraceLayout.headerSize...]
        let (events, reader) = try readAll(bytes)
        #expect(reader.sawDamage)
        #expect(Array(events.suffix(written.count)) == written)
    }

    // MARK: From disk

    @Test func aDamagedFileReadsTheSameFromDiskAsFromMemory() throws {
        // Larger than the reader's 1 MiB read size, so damage and chunks straddle read boundaries.
        var builder = TraceBuilder(sink: InMemoryTrace(compressionLevel: 0), chunkSize: 4 << 10)
        var random = SplitMix64(seed: 3)
        for i in 0..<160_000 as Range<UInt64> {
            try builder.append(.spawn(time: i, task: random.next() | 1, parent: random.next(), name: 0, how: .child))
        }
        try builder.close(time: 160_000)
        let clean = builder.sink.bytes
        #expect(clean.count > 3 << 20)
        let offsets = chunkOffsets(clean)
        var variants: [(String, [UInt8])] = [("clean", clean), ("cut", Array(clean[..<(clean.count * 2 / 3)]))]
        var flipped = clean
        for offset in offsets where offset % 7 == 0 { flipped[offset + 40] ^= 0xFF }
        variants.append(("flipped", flipped))
        var lengths = clean
        for offset in offsets.prefix(200) where offset % 3 == 0 { lengths[offset + 6] = 0x7F }
        variants.append(("lengths", lengths))
        var noise = clean
        let middle = noise.count / 2
        noise.replaceSubrange(middle..<middle + (1 << 20) + 5, with: random.bytes((1 << 20) + 5))
        variants.append(("noise", noise))

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ct-bad-\(UUID()).ctrace").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (name, bytes) in variants {
            _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
            let (fromMemory, memoryReader) = try readAll(bytes)
            let diskReader = try TraceReader(path: path)
            var fromDisk: [TraceEvent] = []
            while let event = try diskReader.next() { fromDisk.append(event) }
            #expect(fromDisk.count == fromMemory.count, "\(name)")
            #expect(fromDisk.indices.first { fromDisk[$0] != fromMemory[$0] } == nil, "\(name): first difference")
            #expect(diskReader.notices == memoryReader.notices, "\(name)")
            #expect(diskReader.bytesConsumed == UInt64(bytes.count), "\(name)")
        }
    }
}

