import Testing
@testable import TraceFormat

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
        encoder.appendExtension(kind: 0x81, body: [1, 2, 3, 4])
        encoder.appendExtension(kind: 0x81, body: [])
        encoder.append(.end(time: 9, task: 1, outcome: .returned))
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        let (read, reader) = try readAll(trace.bytes)
        #expect(read.map(\.kind) == [.spawn, .end])
        #expect(reader.notices.contains(.skippedUnknownKind(kind: 0x81, count: 2)))
    }

    @Test func theSpecTableCoversEveryKindOnce() {
        #expect(KindSpec.all.map(\.kind) == EventKind.allCases)
        #expect(Set(KindSpec.all.map(\.name)).count == KindSpec.all.count)
        for spec in KindSpec.all { #expect(spec.fields.count <= 4 || spec.kind == .string) }
    }
}
