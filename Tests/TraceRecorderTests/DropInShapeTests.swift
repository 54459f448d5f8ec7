import Synchronization
import Testing
import TraceFormat
@testable import TraceRecorder

/// A main-actor model as apps write them: main-actor state touched from traced tasks, which compile only if
/// `CancelTrace.task` inherits the actor the way `Task { }` does, and stored in `Task` properties.
@MainActor final class SearchModel {
    var results: [String] = []
    var order: [Int] = []
    var search: Task<Void, Never>?
    var loader: Task<[String], any Error>?

    func type(_ query: String) {
        search?.cancel()
        search = CancelTrace.task {
            MainActor.assertIsolated()
            self.results.append(query)  // main-actor state, no await: the operation runs on the main actor
        }
        loader = CancelTrace.task(name: "loader") { [query] in
            try await Task.sleep(for: .milliseconds(1))
            return [query]
        }
    }

    /// Tasks created one after another on the main actor start in that order, as `Task { }`'s do.
    func startInOrder(count: Int, traced: Bool) -> [Task<Void, Never>] {
        (0..<count).map { index in
            traced ? CancelTrace.task { self.order.append(index) } : Task { self.order.append(index) }
        }
    }
}

/// Set by work the caller queued on its actor just before it entered a group.
private let queuedWorkRan = Atomic<Bool>(false)

/// Enters group `kind` (plain, then the four traced ones) from a function isolated to its caller, as library code
/// written with `#isolation` does, and tells whether work queued on the actor before the call ran before `body`
/// began. Swift's groups start `body` on the caller's actor without a suspension, so it must not have.
private func bodyBeganAfterQueuedWork(kind: Int, isolation: isolated (any Actor)? = #isolation) async throws -> Bool {
    switch kind {
    case 0: return await withTaskGroup(of: Void.self) { _ in _ = isolation; return queuedWorkRan.load(ordering: .relaxed) }
    case 1: return await CancelTrace.withTaskGroup(of: Void.self) { _ in
        _ = isolation; return queuedWorkRan.load(ordering: .relaxed)
    }
    case 2: return await CancelTrace.withThrowingTaskGroup(of: Void.self) { _ in
        _ = isolation; return queuedWorkRan.load(ordering: .relaxed)
    }
    case 3: return await CancelTrace.withDiscardingTaskGroup { _ in
        _ = isolation; return queuedWorkRan.load(ordering: .relaxed)
    }
    default: return try await CancelTrace.withThrowingDiscardingTaskGroup { _ in
        _ = isolation; return queuedWorkRan.load(ordering: .relaxed)
    }
    }
}

@Suite("Drop-in shapes", .serialized)
struct DropInShapeTests {
    @Test @MainActor func aTracedTaskInAMainActorTypeRunsOnTheMainActorInCreationOrder() async throws {
        let model = SearchModel()
        var trace: RecordedTrace?
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            model.type("swift")
            await model.search?.value
            let loaded = try await model.loader?.value
            #expect(loaded == ["swift"])
            // Ten rounds: the hop this guards against (a closure in the traced path not isolated to the caller's
            // actor) reordered about one round in four.
            for _ in 0..<10 {
                model.order = []
                for task in model.startInOrder(count: 20, traced: true) { await task.value }
                if model.order != Array(0..<20) { break }
            }
        }
        trace = try RecordedTrace(bytes: sink.bytes)
        #expect(model.results == ["swift"])
        #expect(model.order == Array(0..<20))
        let loader = try #require(trace?.task(named: "loader"))
        #expect(trace?.end(of: loader)?.outcome == .returned)
    }

    @Test @MainActor func aTracedGroupsBodyBeginsOnItsCallersActorWithoutASuspension() async throws {
        // Without the fix (the group's wrapper closure not isolated to the caller) every round saw the queued work.
        _ = try await CancelTrace.record(into: InMemoryTrace()) {
            for kind in 0..<5 {
                var late = 0
                for _ in 0..<20 {
                    queuedWorkRan.store(false, ordering: .relaxed)
                    let queued = Task { @MainActor in queuedWorkRan.store(true, ordering: .relaxed) }
                    if try await bodyBeganAfterQueuedWork(kind: kind) { late += 1 }
                    await queued.value
                }
                #expect(late == 0, "group \(kind): body began after queued work in \(late) of 20 rounds")
            }
        }
    }

    @Test func anUnnamedTaskIsNamedAfterItsCallSite() async throws {
        let line = #line + 3
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            await CancelTrace.withRootTask(name: "main") {
                _ = await CancelTrace.task { 1 }.value
                await CancelTrace.withTaskGroup(of: Void.self) { group in
                    group.addTask {}
                }
            }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        let names = trace.spawns.map { trace.strings[$0.name] }
        #expect(names == ["main", "DropInShapeTests.swift:\(line)", "DropInShapeTests.swift:\(line + 2)"])
        // Each spawn is followed by its site: the full file id, the line and the function.
        let function = "anUnnamedTaskIsNamedAfterItsCallSite()"
        #expect(trace.spawns.map { trace.site(of: $0.task) } == [
            "TraceRecorderTests/DropInShapeTests.swift:\(line - 1) (\(function))",
            "TraceRecorderTests/DropInShapeTests.swift:\(line) (\(function))",
            "TraceRecorderTests/DropInShapeTests.swift:\(line + 2) (\(function))",
        ])
        for spawn in trace.spawns {
            let index = try #require(trace.events.firstIndex(of: spawn))
            #expect(trace.events[index + 1].kind == .site && trace.events[index + 1].task == spawn.task)
        }
    }

    @Test func stoppingIsRecordedOnlyWhenTheTaskIsCancelled() async throws {
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            await CancelTrace.withRootTask(name: "main") {
                CancelTrace.stopping()  // not cancelled: nothing to say
                let probe = Probe()
                let poller = CancelTrace.task(name: "poller") {
                    probe.note("poller ran")
                    while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(1)) }
                    CancelTrace.stopping()
                }
                await probe.waitFor(["poller ran"])
                poller.cancel()
                await poller.value
            }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        let poller = try #require(trace.task(named: "poller"))
        let signals = trace.events.filter { $0.kind == .signal }
        #expect(signals.map(\.task) == [poller])
        #expect(signals.first?.signalKind == .stopped)
        #expect(trace.kinds(of: poller) == [.cancel, .signal, .end])
    }

    @Test func caughtWithoutAnErrorRecordsACancellationError() async throws {
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            await CancelTrace.withRootTask(name: "main") {
                do {
                    throw CancellationError()
                } catch is CancellationError {
                    CancelTrace.caught()
                } catch {}
            }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        let caught = try #require(trace.events.first { $0.kind == .caught })
        #expect(trace.strings[caught.errorType] == "CancellationError")
    }

    @Test func cancelWithAReasonIsRecordedWithThatReasonAndCanceller() async throws {
        let sink = try await CancelTrace.record(into: InMemoryTrace()) {
            await CancelTrace.withRootTask(name: "main") {
                let probe = Probe()
                let worker = CancelTrace.task(name: "worker", operation: probe.sleeper("worker", ()))
                let started = CancelTrace.task(name: "started", operation: probe.waiter("started", ()))
                await probe.waitFor(["worker ran", "started ran"])  // running: cancels reach them from here
                worker.cancel(reason: .shutdown)
                started.cancel()
                _ = await worker.result
                await started.value
            }
        }
        let trace = try RecordedTrace(bytes: sink.bytes)
        let main = try #require(trace.task(named: "main"))
        let workerID = try #require(trace.task(named: "worker"))
        let startedID = try #require(trace.task(named: "started"))
        let worker = try #require(trace.cancels(of: workerID).first)
        #expect(worker.canceller == main && worker.cancelReason == .shutdown)
        let started = try #require(trace.cancels(of: startedID).first)
        #expect(started.canceller == main && started.cancelReason == .explicit)
    }
}
