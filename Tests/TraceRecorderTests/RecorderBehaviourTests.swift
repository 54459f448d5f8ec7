#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Samples
import Synchronization
import Testing
import TraceFormat
@testable import TraceRecorder

/// What the recorder promises apart from any one scenario: off means nothing, on loses nothing (or says what it
/// dropped), and it never takes the app down.
@Suite("Recorder behaviour", .serialized)
struct RecorderBehaviourTests {
    @Test func disabledRecorderRecordsNothingAndStillRunsTheWork() async throws {
        await RecordingTurns.shared.begin()
        defer { Task { await RecordingTurns.shared.end() } }
        #expect(!CancelTrace.isEnabled)

        let task = CancelTrace.task(name: "untraced") { 42 }
        #expect(await task.value == 42)
        let value = try await CancelTrace.withRootTask(name: "main") { () async throws -> Int in
            #expect(CancelTrace.currentTaskID == 0)
            CancelTrace.mark("nothing")
            return try await CancelTrace.withTimeout(.seconds(10), name: "quick") { 7 }
        }
        #expect(value == 7)
        for scenario in Scenario.allCases { try await scenario.run() }

        // A session started afterwards holds only its own metadata and close.
        try CancelTrace.start(sink: InMemoryTrace())
        let sink = try #require(Recorder.finish() as? InMemoryTrace)
        let trace = try RecordedTrace(bytes: sink.bytes)
        #expect(trace.events.map(\.kind) == Array(repeating: .info, count: 7) + [.close])
    }

    @Test func manyTasksRecordingAtOnceLoseNoEvent() async throws {
        let writers = 8
        let marksPerWriter = 5_000
        let groupChildren = 200
        let options = CancelTrace.Options(chunkSize: 4_096)
        let sink = try await CancelTrace.record(into: InMemoryTrace(), options: options) {
            try await CancelTrace.withRootTask(name: "main") {
                await withTaskGroup(of: Void.self) { group in
                    for writer in 0..<writers {
                        group.addTask {
                            let label = "writer-\(writer)"
                            for _ in 0..<marksPerWriter { CancelTrace.mark(label) }
                        }
                    }
                }
                try await CancelTrace.withThrowingTaskGroup(of: Int.self) { group in
                    for child in 0..<groupChildren {
                        group.addTask(name: "child-\(child % 10)") { child }
                    }
                    var sum = 0
                    while let value = try await group.next() { sum += value }
                    #expect(sum == groupChildren * (groupChildren - 1) / 2)
                }
            }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        #expect(trace.notices.isEmpty, "\(trace.notices.count) notices, the first: \(trace.notices.prefix(3))")
        #expect(!trace.events.contains { $0.kind == .dropped })
        for writer in 0..<writers {
            #expect(trace.events.filter { $0.kind == .mark && trace.strings[$0.label] == "writer-\(writer)" }.count
                    == marksPerWriter)
        }
        #expect(trace.spawns.count == groupChildren + 1)
        #expect(trace.events.filter { $0.kind == .end }.count == groupChildren + 1)
        #expect(trace.firstTimeGoingBackwards == nil)
    }

    @Test func dropPolicyAccountsForEveryDroppedEvent() async throws {
        let total = 20_000
        let sink = StallingSink()
        let options = CancelTrace.Options(whenWriterFallsBehind: .drop, chunkSize: 512, maxPendingChunks: 1)
        let written = try await CancelTrace.record(into: sink, options: options) {
            for _ in 0..<total { CancelTrace.mark("tick") }
            sink.release()
        }
        let trace = try RecordedTrace(bytes: written.bytes)
        #expect(trace.notices.isEmpty)
        let marks = trace.events.filter { $0.kind == .mark }
        let dropped = trace.events.filter { $0.kind == .dropped }.reduce(0) { $0 + Int($1.droppedCount) }
        #expect(dropped > 0, "the stalled writer should have made the recorder drop")
        #expect(marks.count + dropped == total)
        #expect(trace.sawClose, "the close is never dropped, even when it fills a chunk and the queue is full")
        // Strings defined in dropped chunks are defined again, so every kept event still has its name.
        #expect(marks.allSatisfy { trace.strings[$0.label] == "tick" })
        #expect(trace.info[TraceInfo.Key.runtime] == "swift")
    }

    @Test func blockPolicyWaitsForAStalledWriterAndKeepsEverything() async throws {
        let total = 5_000
        let sink = StallingSink()
        let options = CancelTrace.Options(whenWriterFallsBehind: .block, chunkSize: 512, maxPendingChunks: 1)
        let written = try await CancelTrace.record(into: sink, options: options) {
            let releaser = Task.detached {
                try await Task.sleep(for: .milliseconds(20))
                sink.release()
            }
            for _ in 0..<total { CancelTrace.mark("tick") }
            try await releaser.value
        }
        let trace = try RecordedTrace(bytes: written.bytes)
        #expect(trace.events.filter { $0.kind == .mark }.count == total)
        #expect(!trace.events.contains { $0.kind == .dropped })
    }

    @Test func aPartialChunkReachesTheFileBeforeFinish() async throws {
        let path = temporaryPath("flush")
        defer { removeFile(path) }
        let options = CancelTrace.Options(flushInterval: .milliseconds(10))
        try await CancelTrace.record(to: path, options: options) {
            CancelTrace.mark("before the crash")
            // What a killed process would leave: wait (bounded) until the writer's periodic flush shows the mark.
            var seen = false
            for _ in 0..<500 where !seen {
                try await Task.sleep(for: .milliseconds(10))
                // The file stays empty until the writer thread writes its first chunk (the header with it): on a
                // loaded machine that thread may not have run yet, which is "not seen yet", not a failure.
                let trace: RecordedTrace
                do {
                    trace = try RecordedTrace(path: path)
                } catch TraceReadError.empty {
                    continue
                } catch TraceReadError.truncatedHeader {
                    continue
                }
                seen = trace.events.contains { $0.kind == .mark && trace.strings[$0.label] == "before the crash" }
                if seen { #expect(trace.notices.contains { if case .notClosed = $0 { true } else { false } }) }
            }
            #expect(seen)
        }
        #expect(try RecordedTrace(path: path).sawClose)
    }

    @Test func startFromEnvironmentRecordsToTheNamedPath() async throws {
        await RecordingTurns.shared.begin()
        defer { Task { await RecordingTurns.shared.end() } }
        let path = temporaryPath("environment")
        defer { removeFile(path) }

        unsetenv(CancelTrace.outputVariable)
        #expect(try CancelTrace.startFromEnvironment() == false)
        #expect(!CancelTrace.isEnabled)

        setenv(CancelTrace.outputVariable, path, 1)
        defer { unsetenv(CancelTrace.outputVariable) }
        #expect(try CancelTrace.startFromEnvironment() == true)
        #expect(CancelTrace.isEnabled)
        #expect(throws: CancelTraceError.self) { try CancelTrace.start(sink: InMemoryTrace()) }
        CancelTrace.mark("hello")
        CancelTrace.finish()
        #expect(!CancelTrace.isEnabled)
        let trace = try RecordedTrace(path: path)
        #expect(trace.sawClose)
        #expect(trace.events.contains { $0.kind == .mark && trace.strings[$0.label] == "hello" })
    }

    @Test func aFileThatCannotBeCreatedIsAThrownError() async throws {
        await RecordingTurns.shared.begin()
        defer { Task { await RecordingTurns.shared.end() } }
        #expect(throws: CancelTraceError.self) {
            try CancelTrace.start(path: "/nonexistent-directory/app.ctrace")
        }
        #expect(!CancelTrace.isEnabled)
    }

    @Test func aWriteErrorStopsRecordingWithoutCrashing() async throws {
        let sink = try await CancelTrace.record(into: FailingSink()) { () async throws in
            // The first chunk (metadata) fails on the writer thread, which turns recording off.
            Recorder.waitForWriter()
            #expect(!CancelTrace.isEnabled)
            let task = CancelTrace.task(name: "after the failure") { 1 }
            #expect(await task.value == 1)
        }
        #expect(sink.attempts.load(ordering: .relaxed) == 1)
    }

    @Test func aTaskThatOutlivesItsSessionWritesNothingIntoTheNextOne() async throws {
        let gate = Gate()
        var leftover: Task<Void, Never>?
        _ = try await CancelTrace.record(into: InMemoryTrace()) {
            await CancelTrace.withRootTask(name: "first") {
                leftover = CancelTrace.task(name: "outlives the session") { await gate.wait() }
            }
        }
        let task = try #require(leftover)
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            await CancelTrace.withRootTask(name: "second") {
                task.cancel(reason: .shutdown)  // a cancel of, and the end of, a task this session never spawned
                gate.open()
                _ = await task.result
            }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        let second = try #require(trace.task(named: "second"))
        #expect(trace.spawns.map(\.task) == [second])
        #expect(trace.events.allSatisfy { $0.kind == .info || $0.kind == .close || $0.task == second })
    }

    @Test func longNamesAreBoundedToTheFormatsLimit() async throws {
        let long = String(repeating: "é", count: 40_000)  // 80,000 UTF-8 bytes
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            await CancelTrace.withRootTask(name: long) { CancelTrace.mark(long) }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        let root = try #require(trace.spawns.first)
        #expect(trace.strings[root.name].utf8.count <= TraceLayout.maxStringLength)
        #expect(trace.strings[root.name].allSatisfy { $0 == "é" })
    }

    @Test func aCancelFromOutsideTheAPIIsStillRecorded() async throws {
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            // An untraced task awaiting a traced root: cancelling the plain Task reaches the root's handler.
            let plain = Task {
                await CancelTrace.withRootTask(name: "main") {
                    await CancelTrace.withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask(name: "child") { try await Task.sleep(for: .seconds(100)) }
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(10))
            plain.cancel()
            _ = await plain.result
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        let main = try #require(trace.task(named: "main"))
        let child = try #require(trace.task(named: "child"))
        let mainCancel = try #require(trace.cancels(of: main).first)
        #expect(mainCancel.cancelReason == .unknown && mainCancel.canceller == 0)
        let childCancel = try #require(trace.cancels(of: child).first)
        #expect(childCancel.cancelReason == .parent && childCancel.canceller == main)
        #expect(trace.end(of: child)?.outcome == .cancelled)
        // As with Swift's `withThrowingTaskGroup`, the child's CancellationError that no `next()` awaited is
        // discarded: the group, and so main, return normally.
        #expect(trace.end(of: main)?.outcome == .returned)
    }

    @Test func cancellingAFinishedTaskRecordsNothing() async throws {
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            await CancelTrace.withRootTask(name: "main") {
                let task = CancelTrace.task(name: "quick") { 1 }
                _ = await task.value
                task.cancel()
                task.cancel(reason: .shutdown)
            }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        #expect(!trace.events.contains { $0.kind == .cancel })
    }

    @Test func detachedTasksRecordTheirSpawnerAsParent() async throws {
        let seen = Mutex<TaskID>(0)
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            await CancelTrace.withRootTask(name: "main") {
                let task = CancelTrace.detached(name: "background") { CancelTrace.currentTaskID }
                let id = await task.value
                seen.withLock { $0 = id }
            }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        let background = try #require(trace.task(named: "background"))
        #expect(seen.withLock { $0 } == background)
        #expect(trace.spawn(of: background)?.spawnKind == .detached)
        #expect(trace.spawn(of: background)?.parent == trace.task(named: "main"))
    }

    @Test func cleanupThatThrowsIsRecordedAndTheCancellationStillPropagates() async throws {
        struct CloseFailed: Error {}
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            await CancelTrace.withRootTask(name: "main") {
                let task = CancelTrace.task(name: "worker") {
                    try await CancelTrace.withCancellationCleanup {
                        try await Task.sleep(for: .seconds(100))
                    } cleanup: {
                        throw CloseFailed()
                    }
                }
                task.cancel()
                let result = await task.result
                #expect(throws: CancellationError.self) { try result.get() }
            }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        let worker = try #require(trace.task(named: "worker"))
        #expect(trace.kinds(of: worker) == [.cancel, .caught, .cleanupBegin, .cleanupEnd, .rethrow, .end])
        let cleanupEnd = try #require(trace.events(of: worker).first { $0.kind == .cleanupEnd })
        #expect(cleanupEnd.cleanupResult == .threw)
        #expect(trace.strings[cleanupEnd.errorType] == "CloseFailed")
    }
}

/// A sink whose writes wait until `release()`: a writer that cannot keep up.
final class StallingSink: ChunkSink, Sendable {
    private let released = Atomic<Bool>(false)
    private let trace = Mutex(InMemoryTrace())

    func release() { released.store(true, ordering: .releasing) }

    var bytes: [UInt8] { trace.withLock { $0.bytes } }

    func writeChunk(_ payload: [UInt8]) throws {
        while !released.load(ordering: .acquiring) { usleep(1_000) }
        trace.withLock { $0.writeChunk(payload) }
    }
}

/// A one-shot latch that tasks can wait on.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let openNow = state.withLock { state in
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if openNow { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

/// A sink whose every write fails, like a full disk.
final class FailingSink: ChunkSink, Sendable {
    struct DiskFull: Error {}
    let attempts = Atomic<Int>(0)

    func writeChunk(_ payload: [UInt8]) throws {
        attempts.add(1, ordering: .relaxed)
        throw DiskFull()
    }
}
