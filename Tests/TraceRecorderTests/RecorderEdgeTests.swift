#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TraceFormat
@testable import TraceRecorder

/// Issue 11 items 1 and 9/14: the recorder's edges, where it used to lose data or trap.
@Suite("Recorder edges", .serialized)
struct RecorderEdgeTests {
    static func contents(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    @Test func aRefusedStartLeavesTheLiveTraceAndEveryOtherFileAsTheyWere() async throws {
        let live = temporaryPath("live"), other = temporaryPath("other"), absent = temporaryPath("absent")
        defer { removeFile(live); removeFile(other) }
        let older = Array("an older trace that must survive".utf8)
        #expect(FileManager.default.createFile(atPath: other, contents: Data(older)))
        try await CancelTrace.record(to: live) {
            for i in 0..<20_000 { CancelTrace.mark("before \(i % 7)") }
            for path in [live, other, absent] {
                #expect(throws: CancelTraceError.self) { try CancelTrace.start(path: path) }
            }
            for i in 0..<20_000 { CancelTrace.mark("after \(i % 7)") }
        }
        let trace = try RecordedTrace(path: live)
        #expect(trace.notices.isEmpty, "\(trace.notices)")
        #expect(trace.info[TraceInfo.Key.runtime] == "swift")
        #expect(trace.events.filter { $0.kind == .mark }.count == 40_000)
        #expect(Self.contents(other) == older)
        #expect(Self.contents(absent) == nil, "a refused start creates no file")
    }

    @Test func recordToPathTouchesNoFileWhileItWaitsForItsTurn() async throws {
        let path = temporaryPath("waiting")
        defer { removeFile(path) }
        let older = Array("an older trace".utf8)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(older)))
        await RecordingTurns.shared.begin()
        let before = await RecordingTurns.shared.waitingCount
        let waiter = Task { try await CancelTrace.record(to: path) { CancelTrace.mark("its turn") } }
        for _ in 0..<100_000 where await RecordingTurns.shared.waitingCount == before { await Task.yield() }
        #expect(await RecordingTurns.shared.waitingCount > before, "the second call waits for its turn")
        #expect(Self.contents(path) == older, "a call waiting for its turn has not touched its file")
        await RecordingTurns.shared.end()
        try await waiter.value
        let trace = try RecordedTrace(path: path)
        #expect(trace.events.contains { $0.kind == .mark && trace.strings[$0.label] == "its turn" })
    }
}

/// Issue 11 items 9 and 14: `.drop` with a stalled writer and many distinct (or huge) names.
@Suite struct DropPolicyNameTests {
    // Chunk bounds with many long names: `ThreadOrderTests.chunksStayBoundedAndNamesAreDefinedOnce` (the
    // writer never discards a chunk any more; events are dropped from a full thread ring before encoding).

    @Test func everyKeptEventStillResolvesItsNameAfterDrops() async throws {
        let total = 3_000
        let sink = StallingSink()
        let options = CancelTrace.Options(whenWriterFallsBehind: .drop, chunkSize: 1024, maxPendingChunks: 1)
        let written = try await CancelTrace.record(into: sink, options: options) {
            for i in 0..<total { CancelTrace.mark("name \(i % 500) " + String(repeating: "y", count: 200)) }
            sink.release()
        }
        let trace = try RecordedTrace(bytes: written.bytes)
        #expect(trace.notices.isEmpty, "\(trace.notices)")
        let marks = trace.events.filter { $0.kind == .mark }
        let dropped = trace.events.filter { $0.kind == .dropped }.reduce(0) { $0 + Int($1.droppedCount) }
        #expect(dropped > 0)
        #expect(marks.count + dropped == total)
        #expect(marks.allSatisfy { trace.strings[$0.label].hasPrefix("name ") && trace.strings[$0.label].hasSuffix("yyy") })
    }
}
