#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
import TraceFormat
@testable import TraceRecorder

/// The flight recorder keeps the newest part of the trace in memory and writes it out as a complete trace.
/// Sizes are small so the suite stays fast; nothing here asserts a timing.
@Suite("Flight recorder", .serialized)
struct FlightRecorderTests {
    private func withTurn(_ body: () async throws -> Void) async rethrows {
        await RecordingTurns.shared.begin()
        defer { Task { await RecordingTurns.shared.end() } }
        try await body()
    }

    @Test func aSnapshotKeepsTheNewestChunksAndIsACompleteTrace() async throws {
        try await withTurn {
            let path = temporaryPath("flight")
            defer { removeFile(path) }
            let total = 20_000
            let flight = CancelTrace.FlightRecorderConfiguration(path: path, maxBytes: 4 << 10, writeOnSIGUSR1: false, writeAtExit: false)
            try CancelTrace.startFlightRecorder(flight, options: CancelTrace.Options(chunkSize: 512))
            // A new label every 1000 marks: most are defined in chunks that leave the ring.
            for i in 0..<total { CancelTrace.mark("phase-\(i / 1000)") }
            let written = try CancelTrace.writeFlightRecording()
            CancelTrace.finish()

            let trace = try RecordedTrace(path: path)
            #expect(written > 0)
            #expect(trace.notices.isEmpty, "\(trace.notices)")
            #expect(trace.sawClose)
            #expect(trace.info[TraceInfo.Key.runtime] == "swift")
            let marks = trace.events.filter { $0.kind == .mark }
            #expect(marks.count > 0)
            #expect(marks.count < total, "the ring is smaller than the whole recording")
            // Every kept event still has its name, and the newest events are the ones kept.
            #expect(marks.allSatisfy { trace.strings[$0.label].hasPrefix("phase-") })
            #expect(trace.strings[marks.last!.label] == "phase-\((total - 1) / 1000)")
            #expect(trace.firstTimeGoingBackwards == nil)
        }
    }

    @Test func theRingStaysWithinItsByteBudget() async throws {
        try await withTurn {
            let path = temporaryPath("flight-budget")
            defer { removeFile(path) }
            let budget = 8 << 10
            let ring = FlightRing(settings: CancelTrace.FlightRecorderConfiguration(path: path, maxBytes: budget), compressionLevel: 6)
            var encoder = EventEncoder()
            for round in 0..<200 {
                for i in 0..<200 { encoder.append(.mark(time: UInt64(round * 1000 + i), task: UInt64(i), label: 0)) }
                ring.writeChunk(encoder.bytes)
                encoder.startChunk()
            }
            #expect(ring.ringBytes <= budget)
            #expect(ring.keptChunks < 201)
            _ = try ring.writeSnapshot(to: nil)
            let trace = try RecordedTrace(path: path)
            #expect(trace.notices.isEmpty, "\(trace.notices)")
            #expect(trace.sawClose)
            #expect(trace.events.last(where: { $0.kind == .mark })?.time == 199 * 1000 + 199)
        }
    }

    @Test func aSnapshotClosesAfterTheLastExtensionRecordToo() async throws {
        // The ring's scan of a chunk counts the time deltas of `site` and `signal` records like the reader does: the
        // snapshot's own `close` is not before the chunk's last event (which a reader would report as backwards).
        try await withTurn {
            let path = temporaryPath("flight-extension-time")
            defer { removeFile(path) }
            let ring = FlightRing(settings: CancelTrace.FlightRecorderConfiguration(path: path), compressionLevel: 6)
            var encoder = EventEncoder()
            encoder.append(.info(time: 0, key: 0, value: 0))
            ring.writeChunk(encoder.bytes)
            encoder.startChunk()
            encoder.append(.spawn(time: 10, task: 1, parent: 0, name: 0, how: .root))
            encoder.append(.site(time: 10, task: 1, location: 0))
            encoder.append(.signal(time: 50, task: 1, what: .flag))
            ring.writeChunk(encoder.bytes)
            _ = try ring.writeSnapshot(to: nil)
            let trace = try RecordedTrace(path: path)
            #expect(trace.notices.isEmpty, "\(trace.notices)")
            #expect(trace.events.last?.kind == .close)
            #expect(trace.events.last?.time == 50)
        }
    }

    @Test func chunksOlderThanMaxAgeAreDropped() async throws {
        try await withTurn {
            // The ring itself, fed chunk by chunk: the test waits for the age to pass on the ring's clock instead of
            // sleeping long enough for a background flush, which a loaded machine may not give it.
            let path = temporaryPath("flight-age")
            defer { removeFile(path) }
            let maxAge: UInt64 = 50_000_000
            let ring = FlightRing(settings: CancelTrace.FlightRecorderConfiguration(path: path, maxAge: .nanoseconds(Int64(maxAge))),
                                  compressionLevel: 6)
            var encoder = EventEncoder()
            func chunk(_ label: String, id: UInt64, at time: UInt64) {
                encoder.appendString(id: id, utf8: Array(label.utf8))
                encoder.append(.mark(time: time, task: 0, label: id))
                ring.writeChunk(encoder.bytes)
                encoder.startChunk()
            }
            chunk("metadata", id: 1, at: 1)
            chunk("old", id: 2, at: 2)
            let oldWritten = MonotonicClock.now()
            while MonotonicClock.now() - oldWritten <= maxAge { try await Task.sleep(for: .milliseconds(5)) }
            chunk("new", id: 3, at: 3)
            #expect(ring.keptChunks == 2)  // the metadata chunk and the newest: "old" aged out
            _ = try ring.writeSnapshot(to: nil)
            let trace = try RecordedTrace(path: path)
            let labels = trace.events.filter { $0.kind == .mark }.map { trace.strings[$0.label] }
            #expect(labels == ["metadata", "new"])
        }
    }

    @Test func sigusr1WritesASnapshot() async throws {
        try await withTurn {
            let path = temporaryPath("flight-signal")
            defer { removeFile(path) }
            let flight = CancelTrace.FlightRecorderConfiguration(path: path, writeOnSIGUSR1: true, writeAtExit: false)
            try CancelTrace.startFlightRecorder(flight, options: CancelTrace.Options(flushInterval: .milliseconds(5)))
            await CancelTrace.withRootTask(name: "main") { CancelTrace.mark("before the signal") }
            kill(getpid(), SIGUSR1)
            var exists = false
            for _ in 0..<500 where !exists {
                try await Task.sleep(for: .milliseconds(10))
                exists = access(path, F_OK) == 0
            }
            CancelTrace.finish()
            #expect(exists)
            let trace = try RecordedTrace(path: path)
            #expect(trace.sawClose)
            #expect(trace.events.contains { $0.kind == .mark && trace.strings[$0.label] == "before the signal" })
            #expect(trace.name(of: 1) == "main")
        }
    }

    @Test func writingWithoutAFlightRecorderIsAnError() async throws {
        try await withTurn {
            #expect(throws: CancelTraceError.self) { try CancelTrace.writeFlightRecording() }
            try CancelTrace.start(sink: InMemoryTrace())
            #expect(throws: CancelTraceError.self) { try CancelTrace.writeFlightRecording() }
            CancelTrace.finish()
        }
    }
}

/// Recording under pressure with the drop policy: the app never waits and memory stays bounded.
@Suite("Drop policy", .serialized)
struct DropPolicyTests {
    @Test func aStalledWriterNeverHoldsMoreThanTheRingCapacity() async throws {
        let sink = StallingSink()
        let options = CancelTrace.Options(whenWriterFallsBehind: .drop, chunkSize: 256, maxPendingChunks: 2)
        var most = 0, capacity = 0
        let written = try await CancelTrace.record(into: sink, options: options) {
            for i in 0..<30_000 {
                CancelTrace.mark("tick")
                if i % 100 == 0 {
                    // Events waiting in this thread's ring: the writer is stuck in the sink.
                    let (waiting, ring) = Recorder.state.withLock { state in
                        (state.session?.allBuffers.map { $0.head.load(ordering: .relaxed) - $0.tail.load(ordering: .relaxed) }.max() ?? 0,
                         state.session?.ringCapacity ?? 0)
                    }
                    most = max(most, waiting)
                    capacity = ring
                }
            }
            sink.release()
        }
        #expect(capacity > 0 && most <= capacity)
        let trace = try RecordedTrace(bytes: written.bytes)
        let dropped = trace.events.filter { $0.kind == .dropped }.reduce(0) { $0 + Int($1.droppedCount) }
        #expect(dropped > 0)
        #expect(trace.events.filter { $0.kind == .mark }.count + dropped == 30_000)
        #expect(trace.sawClose)
    }
}
