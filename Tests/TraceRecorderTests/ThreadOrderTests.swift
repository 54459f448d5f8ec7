#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import Testing
import TraceFormat
@testable import TraceRecorder

/// Issue 16: every thread records into its own ring and the writer merges them. The format still promises file
/// order = time order, so events whose real order is known — a token passed from thread to thread — must come
/// out in that order, however the threads' rings were drained.
@Suite("Time order across threads", .serialized)
struct ThreadOrderTests {
    /// Runs `body(i)` on `count` OS threads at once and waits for them.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        var threads: [pthread_t] = []
        for index in 0..<count {
            let context = Unmanaged.passRetained(ThreadJob(index: index, body: body)).toOpaque()
            #if os(Linux)
            var thread = pthread_t()
            #else
            var thread: pthread_t?
            #endif
            let status = pthread_create(&thread, nil, { context in
                let job = Unmanaged<ThreadJob>.fromOpaque(context!).takeRetainedValue()
                job.body(job.index)
                return nil
            }, context)
            precondition(status == 0, "pthread_create failed")
            #if os(Linux)
            threads.append(thread)
            #else
            threads.append(thread!)
            #endif
        }
        for thread in threads { pthread_join(thread, nil) }
    }

    final class ThreadJob: @unchecked Sendable {
        let index: Int
        let body: @Sendable (Int) -> Void
        init(index: Int, body: @escaping @Sendable (Int) -> Void) {
            self.index = index
            self.body = body
        }
    }

    @Test func aTraceWrittenBySixteenThreadsIsInTimeOrder() async throws {
        let threads = 16, laps = 150
        let turn = Atomic<Int>(0)
        let background = Atomic<Int>(0)
        // Small chunks and a 1 ms flush interval: the writer merges many times while the threads record.
        let options = CancelTrace.Options(chunkSize: 2048, flushInterval: .milliseconds(1))
        let sink = try await CancelTrace.record(into: InMemoryTrace(), options: options) {
            Self.onThreads(threads) { thread in
                CancelTrace.mark("thread \(thread) started")
                for lap in 0..<laps {
                    let token = lap * threads + thread
                    var waits = 0
                    while turn.load(ordering: .acquiring) != token {
                        // Unordered events from every thread while it waits, interleaved with the token's.
                        if waits < 6 {
                            CancelTrace.rethrow()
                            background.add(1, ordering: .relaxed)
                        }
                        waits += 1
                        sched_yield()
                    }
                    CancelTrace.mark("token \(thread)")
                    turn.store(token + 1, ordering: .releasing)
                }
            }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        #expect(trace.notices.isEmpty, "\(trace.notices.prefix(3))")
        #expect(trace.sawClose)
        // The token went 0, 1, … 15, 0, 1, … from thread to thread: the file has its marks in that order.
        let tokens = trace.events.filter { $0.kind == .mark && trace.strings[$0.label].hasPrefix("token ") }
        #expect(tokens.count == threads * laps)
        let holders = tokens.map { trace.strings[$0.label] }
        let expected = (0..<(threads * laps)).map { "token \($0 % threads)" }
        let firstWrong = holders.indices.first { holders[$0] != expected[$0] }
        #expect(firstWrong == nil, "token \(firstWrong ?? -1) is out of order")
        // Times never go backwards in file order (within and across chunks).
        #expect(RecordedTrace.firstTimeGoingBackwards(in: trace.events.filter { $0.kind != .info }) == nil)
        // Nothing lost (`.block`), every thread's first name resolved.
        #expect(trace.events.filter { $0.kind == .rethrow }.count == background.load(ordering: .relaxed))
        let started = Set(trace.events.filter { $0.kind == .mark }.map { trace.strings[$0.label] }.filter { $0.hasSuffix(" started") })
        #expect(started == Set((0..<threads).map { "thread \($0) started" }))
    }

    /// The writer's encoding side: a chunk is handed over once it reaches the chunk size, so it holds at most the
    /// size, one event and that event's names; a name is defined once, in the chunk of its first use.
    @Test(arguments: [(2_000, 1_000), (40, 65_000)])
    func chunksStayBoundedAndNamesAreDefinedOnce(names: Int, nameLength: Int) {
        let chunkSize = 4096
        let strings = StringInterner()
        var session = Session(strings: strings, chunkSize: chunkSize, clock: EventClock())
        var largest = 0, chunks = 0
        var allBytes: [UInt8] = []
        for i in 0..<names {
            for label in ["\(i) " + String(repeating: "x", count: nameLength), "0 " + String(repeating: "x", count: nameLength)] {
                let id = strings.id(of: label)
                session.append(stamped: .mark(time: EventClock.stamp(usesCycles: session.clock.usesCycles), task: 0, label: id))
                largest = max(largest, session.encoder.bytes.count)
                if session.isChunkFull {
                    allBytes += session.encoder.bytes
                    session.chunkWritten()
                    chunks += 1
                }
            }
        }
        allBytes += session.encoder.bytes
        #expect(largest <= chunkSize + 2 * (nameLength + 64), "largest chunk \(largest) bytes")
        #expect(chunks > 1)
        // Decode the concatenated payloads: each name defined once, marks resolve.
        var trace = InMemoryTrace()
        trace.writeChunk(allBytes)
        let decoded = try? RecordedTrace(bytes: trace.bytes)
        let marks = decoded?.events.filter { $0.kind == .mark } ?? []
        #expect(marks.count == 2 * names)
        #expect(marks.allSatisfy { decoded?.strings[$0.label].hasSuffix("xxx") == true })
        // One file id per distinct name: a name used again is not defined again.
        #expect(Set(marks.map(\.label)).count == names)
    }
}
