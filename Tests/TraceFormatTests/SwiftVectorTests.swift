import Foundation
import Testing
@testable import TraceFormat

/// Traces written by the Swift writer (`EventEncoder`, `TraceBuilder`, `InMemoryTrace`), checked in under
/// Tests/Vectors/swift with a listing of their events beside each, for the Python reader to decode
/// (python/tests/test_vectors_swift.py): the other direction of `SharedVectorTests`. They hold what the Python
/// recorder never writes: `dropped`, every enumeration value and values out of range (read as each field's
/// fallback), `site` and `signal` with trailing bytes from a newer minor version, an unknown extension kind, times
/// going backwards across chunks, and a name over the string limit.
///
/// A vector that no longer matches what this file writes fails `checkedInVectorsAreCurrent`; rewrite them with
/// `CANCELTRACE_WRITE_VECTORS=1 swift test --filter SwiftVectorTests` and read the diff.
@Suite struct SwiftVectorTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Vectors/swift")

    struct Vector {
        let name: String
        let about: String
        let bytes: [UInt8]
        /// The events the reader must yield, as written (times already raised where they went backwards).
        let events: [TraceEvent]
    }

    /// A name over the 65,535-byte limit whose cut falls inside a 2-byte scalar (65,535 is odd): both recorders
    /// cut it to 65,534 bytes, at the scalar boundary, with no placeholder text.
    static let longName = String(repeating: "é", count: 40_000)

    static var vectors: [Vector] {
        [everyCoreKind(), extensions(), outOfRangeEnums(), backwardsAcrossChunks()]
    }

    /// Every core kind, every enumeration value, `mark` and `dropped`, over three chunks; strings defined in one
    /// chunk and used in later ones; a long name cut at the limit.
    static func everyCoreKind() -> Vector {
        var builder = TraceBuilder(sink: InMemoryTrace(), chunkSize: 256)
        var events: [TraceEvent] = []
        func add(_ event: TraceEvent) { try! builder.append(event); events.append(event) }
        for (key, value) in [("runtime", "swift"), ("recorder", "swift vectors")] {
            add(.info(time: 0, key: builder.string(key), value: builder.string(value)))
        }
        let worker = builder.string("worker"), error = builder.string("CancellationError")
        add(.spawn(time: 10, task: 1, parent: 0, name: builder.string("main"), how: .root))
        for how in SpawnKind.allCases {
            add(.spawn(time: 20, task: 2 + UInt64(how.rawValue), parent: 1, name: worker, how: how))
        }
        add(.spawn(time: 25, task: 20, parent: 1, name: builder.string(longName), how: .child))
        for reason in CancelReason.allCases {
            add(.cancel(time: 30 + UInt64(reason.rawValue), task: 2, by: 1, reason: reason, message: builder.string("stop")))
        }
        add(.caught(time: 40, task: 2, error: error))
        add(.cleanupBegin(time: 41, task: 2))
        for result in CleanupResult.allCases { add(.cleanupEnd(time: 42, task: 2, result: result, error: error)) }
        add(.rethrow(time: 43, task: 2))
        add(.uncancel(time: 44, task: 3))
        add(.mark(time: 45, task: 3, label: builder.string("checkpoint")))
        add(.mark(time: 45, task: 0, label: 0))
        add(.dropped(time: 46, count: 12_345))
        for outcome in Outcome.allCases {
            add(.end(time: 1_000_000_000 + UInt64(outcome.rawValue), task: 2 + UInt64(outcome.rawValue), outcome: outcome, error: error))
        }
        add(.end(time: UInt64(1) << 40, task: 1, outcome: .returned))
        try! builder.close(time: UInt64(1) << 40)
        events.append(.close(time: UInt64(1) << 40))
        return Vector(name: "every-core-kind", about: "every core kind and enumeration value, mark, dropped, a name cut at the limit, over two chunks",
                      bytes: builder.sink.bytes, events: events)
    }

    /// `site` and `signal` (every `what`), one `site` with bytes after its fields (a newer minor version adds
    /// fields: skipped), and a record of an extension kind no reader knows (skipped; its time delta is not applied).
    static func extensions() -> Vector {
        var encoder = EventEncoder()
        var events: [TraceEvent] = []
        func add(_ event: TraceEvent) { encoder.append(event); events.append(event) }
        encoder.appendString(id: 1, utf8: "runtime".utf8)
        encoder.appendString(id: 2, utf8: "swift".utf8)
        encoder.appendString(id: 3, utf8: "App/Poller.swift:12 (poll())".utf8)
        encoder.appendString(id: 4, utf8: "Task.sleep".utf8)
        encoder.appendString(id: 5, utf8: "app+0x1f2e".utf8)
        add(.info(time: 0, key: 1, value: 2))
        add(.spawn(time: 100, task: 7, parent: 0, name: 0, how: .unstructured))
        add(.site(time: 100, task: 7, location: 3))
        for what in CancellationSignal.allCases {
            add(.signal(time: 200 + UInt64(what.rawValue), task: 7, what: what, via: what == .stopped ? 0 : 4))
        }
        // Time delta 0, task 8, location 5, then two fields this version does not know.
        encoder.appendExtension(kind: EventKind.site.rawValue, body: [0, 8, 5, 0x2A, 0x7F])
        events.append(.site(time: 202, task: 8, location: 5))
        encoder.appendExtension(kind: 0x9F, body: [0x05, 0x01, 0x02, 0x03])
        add(.end(time: 300, task: 7, outcome: .returned))
        add(.close(time: 300))
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        return Vector(name: "extensions", about: "site and signal, a site with trailing fields from a newer minor version, an unknown extension kind 0x9f",
                      bytes: trace.bytes, events: events)
    }

    /// Each enumeration field with a value past its known ones: every reader reads the field's fallback.
    static func outOfRangeEnums() -> Vector {
        var encoder = EventEncoder()
        encoder.appendString(id: 1, utf8: "runtime".utf8)
        encoder.appendString(id: 2, utf8: "swift".utf8)
        let events: [TraceEvent] = [
            .info(time: 0, key: 1, value: 2),
            TraceEvent(kind: .spawn, time: 1, fields: (1, 0, 0, 9)),
            TraceEvent(kind: .cancel, time: 2, fields: (1, 0, 200, 0)),
            TraceEvent(kind: .cleanupEnd, time: 3, fields: (1, 7, 0, 0)),
            TraceEvent(kind: .signal, time: 4, fields: (1, 3, 0, 0)),
            TraceEvent(kind: .end, time: 5, fields: (1, 127, 0, 0)),
            .close(time: 5),
        ]
        for event in events { encoder.append(event) }
        var trace = InMemoryTrace()
        trace.writeChunk(encoder.bytes)
        return Vector(name: "out-of-range-enums", about: "how 9, reason 200, result 7, what 3, outcome 127: each read as its field's fallback",
                      bytes: trace.bytes, events: events)
    }

    /// The second chunk's times start before the first's last time: each is raised to the last time given out,
    /// and the chunk's own deltas still count from its unraised times.
    static func backwardsAcrossChunks() -> Vector {
        var builder = TraceBuilder(sink: InMemoryTrace())
        try! builder.info([(key: "runtime", value: "swift")])
        try! builder.append(.spawn(time: 1_000, task: 1, parent: 0, name: builder.string("main"), how: .root))
        try! builder.flush()
        try! builder.append(.mark(time: 100, task: 1, label: builder.string("early")))
        try! builder.append(.mark(time: 1_500, task: 1, label: builder.string("later")))
        try! builder.append(.mark(time: 2_000, task: 1, label: builder.string("after")))
        try! builder.close(time: 2_000)
        let events: [TraceEvent] = [
            .info(time: 0, key: 1, value: 2),
            .spawn(time: 1_000, task: 1, parent: 0, name: 3, how: .root),
            .mark(time: 1_000, task: 1, label: 4),
            .mark(time: 1_500, task: 1, label: 5),
            .mark(time: 2_000, task: 1, label: 6),
            .close(time: 2_000),
        ]
        return Vector(name: "backwards-across-chunks", about: "a chunk whose first time is before the previous chunk's last: raised, not shifted",
                      bytes: builder.sink.bytes, events: events)
    }

    /// An event as the Python reader lists it: kind, time, each field by its spec name; strings as text,
    /// enumerations as their label (an unknown value as the field's fallback), other fields as numbers.
    static func listed(_ event: TraceEvent, _ strings: StringTable) -> [String: Any] {
        let spec = event.kind.spec
        var fields: [String: Any] = ["kind": spec.name, "time": event.time]
        for (index, field) in spec.fields.enumerated() {
            let value = event[field: index]
            switch field.type {
            case .string: fields[field.name] = strings[value]
            case .enumeration:
                fields[field.name] = value < UInt64(field.values.count) ? field.values[Int(value)] : field.values[Int(field.fallback!)]
            default: fields[field.name] = value
            }
        }
        return fields
    }

    /// The listing written beside a vector: what it holds, and what any reader must make of it.
    static func listing(_ vector: Vector) throws -> Data {
        let reader = try TraceReader(bytes: vector.bytes)
        var events: [[String: Any]] = []
        while let event = try reader.next() { events.append(listed(event, reader.strings)) }
        let skipped = reader.notices.compactMap { notice -> String? in
            if case let .skippedUnknownKind(kind, count) = notice { "0x\(String(kind, radix: 16)) × \(count)" } else { nil }
        }
        let backwards = reader.notices.compactMap { notice -> Int? in
            if case let .timeWentBackwards(offset) = notice { Int(offset) } else { nil }
        }
        let json: [String: Any] = [
            "source": "Tests/TraceFormatTests/SwiftVectorTests.swift: \(vector.about)",
            "closed": reader.sawClose,
            "truncated": false,
            "chunks": try payloads(vector.bytes).count,
            "skippedKinds": skipped,
            "timeWentBackwardsInChunksAt": backwards,
            "longName": longName.utf8.count,
            "events": events,
        ]
        return try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys]) + Data("\n".utf8)
    }

    /// The inflated payloads of `bytes`: what a vector holds, whichever zlib compressed it.
    static func payloads(_ bytes: [UInt8]) throws -> [[UInt8]] {
        let chunks = ChunkReader(source: .memory, bytes: bytes)
        guard Array(try chunks.peek(TraceLayout.headerSize)) == TraceLayout.header else { return [] }
        chunks.skip(TraceLayout.headerSize)
        var payloads: [[UInt8]] = []
        while let chunk = try chunks.nextChunk(report: { _ in }) {
            payloads.append(Array(UnsafeRawBufferPointer(rebasing: chunks.payload[..<chunk.count])))
        }
        return payloads
    }

    @Test(arguments: vectors.map(\.name))
    func swiftWrittenTraceReadsAsWritten(name: String) throws {
        let vector = Self.vectors.first { $0.name == name }!
        let reader = try TraceReader(bytes: vector.bytes)
        var events: [TraceEvent] = []
        while let event = try reader.next() { events.append(event) }
        #expect(events == vector.events)
        #expect(!reader.sawDamage)
        #expect(reader.sawClose)
    }

    @Test func unknownEnumValuesReadAsEachFieldsFallback() throws {
        let vector = Self.outOfRangeEnums()
        let reader = try TraceReader(bytes: vector.bytes)
        var labels: [String] = []
        while let event = try reader.next() {
            for (index, field) in event.kind.spec.fields.enumerated() where field.type == .enumeration {
                labels.append(Self.listed(event, reader.strings)[field.name] as! String)
                #expect(field.label(of: event[field: index]).hasPrefix(labels.last! + " ("))
            }
        }
        #expect(labels == [SpawnKind.fallback.label, CancelReason.fallback.label, CleanupResult.fallback.label,
                           CancellationSignal.fallback.label, Outcome.fallback.label])
    }

    @Test func aNameOverTheLimitIsCutAtAScalarBoundaryWithNoPlaceholder() throws {
        let reader = try TraceReader(bytes: Self.everyCoreKind().bytes)
        var names: [String] = []
        while let event = try reader.next() {
            if event.kind == .spawn { names.append(reader.strings[event.name]) }
        }
        let cut = try #require(names.first { $0.utf8.count > 1_000 })
        #expect(cut.utf8.count == TraceLayout.maxStringLength - 1)
        #expect(cut == String(repeating: "é", count: (TraceLayout.maxStringLength - 1) / 2))
        #expect(TraceStrings.bounded(Self.longName) == cut)
    }

    @Test func checkedInVectorsAreCurrent() throws {
        let write = ProcessInfo.processInfo.environment["CANCELTRACE_WRITE_VECTORS"] == "1"
        if write { try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true) }
        for vector in Self.vectors {
            let trace = Self.folder.appendingPathComponent(vector.name + ".ctrace")
            let listing = Self.folder.appendingPathComponent(vector.name + ".events.json")
            let expectedListing = try Self.listing(vector)
            if write {
                try Data(vector.bytes).write(to: trace)
                try expectedListing.write(to: listing)
                continue
            }
            let stale = "Tests/Vectors/swift/\(vector.name) is stale: CANCELTRACE_WRITE_VECTORS=1 swift test --filter SwiftVectorTests"
            let checkedIn = try [UInt8](Data(contentsOf: trace))
            #expect(try Self.payloads(checkedIn) == Self.payloads(vector.bytes), "\(stale)")
            #expect(Array(checkedIn.prefix(TraceLayout.headerSize)) == TraceLayout.header, "\(stale)")
            #expect(try Data(contentsOf: listing) == expectedListing, "\(stale)")
        }
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: Self.folder.path))
        #expect(names == Set(Self.vectors.flatMap { [$0.name + ".ctrace", $0.name + ".events.json"] }),
                "Tests/Vectors/swift holds a file no vector writes")
    }
}
