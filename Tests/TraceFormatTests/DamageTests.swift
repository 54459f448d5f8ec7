import Testing
@testable import TraceFormat
import TraceTestSupport

@Suite struct DamageTests {
    @Test func truncationAtEveryByteYieldsEveryCompleteChunk() throws {
        let (bytes, written) = try smallTrace(chunkSize: 40)
        let offsets = chunkOffsets(bytes) + [bytes.count]
        #expect(offsets.count >= 4)
        for cut in 0..<bytes.count {
            let prefix = Array(bytes[..<cut])
            if cut < TraceLayout.headerSize {
                #expect(throws: TraceReadError.self) { try readAll(prefix) }
                continue
            }
            let (read, reader) = try readAll(prefix)
            // Events of every chunk that ends at or before the cut, and nothing else.
            let complete = offsets.filter { $0 <= cut }.last!
            let expectedCount = try readAll(Array(bytes[..<complete])).events.count
            #expect(read.count == expectedCount, "cut at \(cut)")
            #expect(Array(written.prefix(read.count)) == read, "cut at \(cut)")
            if cut == bytes.count {
                #expect(reader.notices.isEmpty)
            } else if offsets.contains(cut) {
                #expect(reader.notices == [.notClosed(offset: UInt64(cut))], "cut at \(cut)")
            } else {
                #expect(reader.notices == [.truncated(offset: UInt64(complete))], "cut at \(cut)")
            }
        }
    }

    @Test func aFlippedByteInsideAChunkIsReportedWithItsOffsetAndTheRestReads() throws {
        let (bytes, written) = try smallTrace(chunkSize: 40)
        let offsets = chunkOffsets(bytes)
        let victim = offsets[1]
        let nextStart = offsets[2]
        let eventsBefore = try readAll(Array(bytes[..<victim])).events.count
        let eventsInVictim = try readAll(Array(bytes[..<nextStart])).events.count - eventsBefore
        for position in victim..<nextStart {
            var damaged = bytes
            damaged[position] ^= 0x20
            let (read, reader) = try readAll(damaged)
            let damage = reader.notices.filter(\.isDamage)
            #expect(damage.first == .corruptChunk(offset: UInt64(victim), reason: "CRC mismatch")
                    || damage.first.map { "\($0)" }?.contains("byte \(victim)") == true, "flip at \(position): \(damage)")
            // Everything outside the damaged chunk is still there (string definitions in it may be lost).
            #expect(read.count >= written.count - eventsInVictim - 1, "flip at \(position)")
            #expect(Array(read.prefix(eventsBefore)) == Array(written.prefix(eventsBefore)))
            #expect(read.last == written.last, "flip at \(position)")
        }
    }

    @Test func aLengthFieldOfFourGiBIsCorruptNotAnAllocation() throws {
        let (bytes, _) = try smallTrace(chunkSize: 40)
        var damaged = bytes
        let first = chunkOffsets(bytes)[0]
        for i in 4..<8 { damaged[first + i] = 0xFF }
        let (read, reader) = try readAll(damaged)
        #expect(reader.notices.first == .corruptChunk(offset: UInt64(first), reason: "implausible lengths (compressed 4294967295, raw \(Int(bytes[first + 8]) | Int(bytes[first + 9]) << 8))"))
        #expect(!read.isEmpty)
    }

    @Test func aChunkThatInflatesBeyondItsDeclaredSizeIsRejected() throws {
        // 1 MiB of zeros compresses to about 1 KiB; declare 100 bytes and fix the CRC so only the size check can catch it.
        var encoder = EventEncoder()
        for _ in 0..<100_000 { encoder.append(.rethrow(time: 0, task: 1)) }
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        var bytes = trace.bytes
        let offset = TraceLayout.headerSize
        let declared: UInt32 = 100
        for i in 0..<4 { bytes[offset + 8 + i] = UInt8(truncatingIfNeeded: declared >> (8 * UInt32(i))) }
        fixCRC(&bytes, chunkAt: offset)
        let (read, reader) = try readAll(bytes)
        #expect(read.isEmpty)
        #expect(reader.notices.first == .corruptChunk(offset: UInt64(offset), reason: "inflates to more than its declared 100 bytes"))
    }

    @Test func anAbsurdStringLengthIsAMalformedRecord() throws {
        var payload: [UInt8] = [EventKind.string.rawValue]
        payload.appendVarint(1)
        payload.appendVarint(1 << 40)
        var trace = InMemoryTrace()
        trace.writeChunk(payload)
        let (read, reader) = try readAll(trace.bytes)
        #expect(read.isEmpty)
        #expect(reader.sawDamage)
        #expect("\(reader.notices[0])".contains("over the 65535-byte limit"))
    }

    @Test func anUnknownCoreKindIsAMalformedRecord() throws {
        var trace = InMemoryTrace()
        trace.writeChunk([0x42, 0, 0])
        let (_, reader) = try readAll(trace.bytes)
        #expect(reader.notices.first == .malformedRecord(chunkOffset: 16, payloadOffset: 0, reason: "unknown event kind 0x42"))
    }

    @Test func timeGoingBackwardsAcrossChunksIsRaisedWithANotice() throws {
        var trace = InMemoryTrace()
        var encoder = EventEncoder()
        encoder.append(.spawn(time: 1_000, task: 1, parent: 0, name: 0, how: .root))
        trace.writeChunk(encoder.bytes)
        encoder.startChunk()
        encoder.append(.end(time: 10, task: 1, outcome: .returned))
        trace.writeChunk(encoder.bytes)
        let (read, reader) = try readAll(trace.bytes)
        #expect(read.map(\.time) == [1_000, 1_000])
        #expect(reader.notices.contains(.timeWentBackwards(chunkOffset: UInt64(chunkOffsets(trace.bytes)[1]))))
    }

    @Test(arguments: [
        ([UInt8](), TraceReadError.empty),
        (Array("hello, world\n".utf8), .notATrace(looksLike: "a text file")),
        ([0x1F, 0x8B, 0x08, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8], .notATrace(looksLike: "a gzip file")),
        (Array(TraceLayout.magic.prefix(5)), .truncatedHeader(size: 5)),
        (TraceLayout.magic + [2, 0, 0, 0, 0, 0, 0, 0], .unsupportedVersion(major: 2, minor: 0)),
    ])
    func inputsThatAreNotTracesThrowAClearError(bytes: [UInt8], expected: TraceReadError) {
        #expect(throws: expected) { try TraceReader(bytes: bytes) }
    }

    @Test func randomByteDamageIsReadWithOneLineNoticesAndTimeInOrder() throws {
        // Seeded, so a failure reproduces: up to 8 random bytes overwritten in a trace of 40-byte chunks.
        var random = SplitMix64(seed: 0xDA)
        let (valid, written) = try smallTrace(chunkSize: 40)
        var readCleanly = 0
        for round in 0..<300 {
            var bytes = valid
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            let reader: TraceReader
            do {
                reader = try TraceReader(bytes: bytes)
            } catch {
                // Only the header can make the whole file unreadable: one line, never a crash.
                #expect(!"\(error)".contains("\n"), "round \(round)")
                continue
            }
            var events: [TraceEvent] = []
            while let event = try? reader.next() { events.append(event) }
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.time <= $1.time }, "round \(round): time went backwards")
            #expect(events.count <= written.count + 64, "round \(round): damage made events up")
            for notice in reader.notices { #expect(!notice.description.contains("\n"), "round \(round)") }
            if !reader.sawDamage && events == written { readCleanly += 1 }
        }
        // Damage that misses every checked byte is rare: most rounds must be caught as damage.
        #expect(readCleanly < 150)
    }

    @Test func aNewerMinorVersionIsReadWithANotice() throws {
        var (bytes, written) = try smallTrace()
        bytes[10] = 3
        let (read, reader) = try readAll(bytes)
        #expect(read == written)
        #expect(reader.notices == [.newerMinorVersion(major: 1, minor: 3)])
    }
}
