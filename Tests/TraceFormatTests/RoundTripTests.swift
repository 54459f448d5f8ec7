import Testing
@testable import TraceFormat
import TraceTestSupport

@Suite struct RoundTripTests {
    @Test func everyKindSurvivesARoundTrip() throws {
        let (bytes, written) = try smallTrace()
        let (read, reader) = try readAll(bytes)
        #expect(read == written)
        #expect(reader.notices.isEmpty)
        #expect(reader.sawClose)
        #expect(reader.strings[2] == "swift")
        #expect(reader.info[TraceInfo.Key.pid] == "42")
        #expect(Set(read.map(\.kind)).isSuperset(of: [.info, .spawn, .cancel, .caught, .cleanupBegin, .cleanupEnd,
                                                       .rethrow, .end, .mark, .close]))
    }

    @Test func extremeValuesSurvive() throws {
        var builder = TraceBuilder(sink: InMemoryTrace())
        let big = String(repeating: "é", count: 40_000) // 80,000 UTF-8 bytes: cut to the limit
        let name = builder.string(big)
        let events: [TraceEvent] = [
            .spawn(time: 0, task: .max, parent: .max - 1, name: name, how: .detached),
            .cancel(time: 1, task: .max, by: 0, reason: .shutdown, message: name),
            .uncancel(time: 1, task: .max),
            .dropped(time: UInt64.max / 2, count: .max),
            .end(time: UInt64.max, task: .max, outcome: .failed, error: name),
        ]
        for event in events { try builder.append(event) }
        try builder.flush()
        let (read, reader) = try readAll(builder.sink.bytes)
        #expect(read == events)
        #expect(reader.strings[name].utf8.count <= TraceLayout.maxStringLength)
        #expect(reader.strings[name].utf8.count >= TraceLayout.maxStringLength - 1)
        #expect(reader.notices == [.notClosed(offset: UInt64(builder.sink.bytes.count))])
    }

    @Test(arguments: EventKind.allCases.filter { $0 != .string })
    func eachKindDecodesWithItsFields(kind: EventKind) throws {
        let fieldCount = kind.spec.fields.count
        let values: [UInt64] = [1, 300, 1 << 35, .max]
        let event = TraceEvent(kind: kind, time: 123_456_789, fields: (
            fieldCount > 0 ? values[0] : 0, fieldCount > 1 ? values[1] : 0,
            fieldCount > 2 ? values[2] : 0, fieldCount > 3 ? values[3] : 0))
        var encoder = EventEncoder()
        encoder.append(event)
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        let (read, _) = try readAll(trace.bytes)
        #expect(read == [event])
    }

    @Test func timesAreDeltasWithinAChunkAndAbsoluteAcrossChunks() throws {
        let (bytes, written) = try smallTrace(chunkSize: 1)
        #expect(chunkOffsets(bytes).count > 5)
        let (read, _) = try readAll(bytes)
        #expect(read == written)
    }

    @Test func extensionKindsAreSkippedWithANotice() throws {
        var encoder = EventEncoder()
        encoder.append(.spawn(time: 5, task: 1, parent: 0, name: 0, how: .root))
        encoder.appendExtension(kind: 0xA1, body: [1, 2, 3, 4])
        encoder.appendExtension(kind: 0xA1, body: [])
        encoder.append(.end(time: 9, task: 1, outcome: .returned))
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        let (read, reader) = try readAll(trace.bytes)
        #expect(read.map(\.kind) == [.spawn, .end])
        #expect(reader.notices.contains(.skippedUnknownKind(kind: 0xA1, count: 2)))
    }

    @Test func siteAndSignalRecordsRoundTripInsideTheirLength() throws {
        var encoder = EventEncoder()
        let written: [TraceEvent] = [
            .spawn(time: 5, task: 1, parent: 0, name: 0, how: .root),
            .site(time: 5, task: 1, location: 3),
            .signal(time: 7, task: 1, what: .received, via: 4),
            .signal(time: 1 << 40, task: UInt64.max, what: .stopped, via: UInt64.max),
            .end(time: 1 << 41, task: 1, outcome: .returned),
        ]
        for event in written { encoder.append(event) }
        // Each extension record is kind, one length byte, then the body that length covers.
        #expect(encoder.bytes[encoder.bytes.firstIndex(of: 0x80)! + 1] == 3)
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        let (read, reader) = try readAll(trace.bytes)
        #expect(read == written)
        #expect(!reader.sawDamage)
        #expect(!reader.notices.contains { if case .skippedUnknownKind = $0 { true } else { false } })
    }

    @Test func aSiteRecordWithExtraTrailingBytesFromANewerWriterKeepsItsFields() throws {
        var encoder = EventEncoder()
        encoder.append(.spawn(time: 5, task: 1, parent: 0, name: 0, how: .root))
        encoder.appendExtension(kind: EventKind.site.rawValue, body: [0x01, 0x01, 0x00, 0x7F, 0x7F])
        encoder.append(.end(time: 9, task: 1, outcome: .returned))
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        let (read, reader) = try readAll(trace.bytes)
        #expect(read.map(\.kind) == [.spawn, .site, .end])
        #expect(read[1] == .site(time: 6, task: 1, location: 0))
        #expect(read[2].time == 10)  // the end's delta (4) counts from the site's time, as every delta does
        #expect(!reader.sawDamage)
    }

    @Test func aSignalRecordShorterThanItsFieldsIsMalformed() throws {
        var encoder = EventEncoder()
        encoder.append(.spawn(time: 5, task: 1, parent: 0, name: 0, how: .root))
        encoder.appendExtension(kind: EventKind.signal.rawValue, body: [0x01, 0x01])
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        let (read, reader) = try readAll(trace.bytes)
        #expect(read.map(\.kind) == [.spawn])
        #expect(reader.sawDamage)
    }

    @Test func theSpecTableCoversEveryKindOnce() {
        #expect(KindSpec.all.map(\.kind) == EventKind.allCases)
        #expect(Set(KindSpec.all.map(\.name)).count == KindSpec.all.count)
        for spec in KindSpec.all { #expect(spec.fields.count <= 4 || spec.kind == .string) }
    }
}
