import Synchronization
import Testing
import TraceFormat
@testable import TraceRecorder

/// Every traced helper behaves exactly as the Swift construct it stands for, with recording on and off: the
/// same programs (EquivalencePrograms.swift) run through the plain construct and the traced one, and what they
/// observe — result or thrown error, which children ran, saw a cancel or finished, and order where Swift defines
/// it — must be equal.
@Suite("Behaviour equivalence", .serialized)
struct BehaviourEquivalenceTests {
    enum Construct: String, CaseIterable {
        case plain, tracedOff, tracedOn
    }

    /// Runs `work` as `construct` needs it: recording on (into memory, under a root task) or surely off (holding
    /// the recorder's turn, so that no parallel test records meanwhile). Returns what `work` returned and, when
    /// recording, the trace.
    static func run(_ construct: Construct, cancelOuterAfter facts: [String]?, probe: Probe,
                    _ work: @escaping @Sendable () async -> String) async throws -> (String, RecordedTrace?) {
        @Sendable func runMaybeCancelled() async -> String {
            let task = Task { await work() }
            if let facts {
                await probe.waitFor(facts)
                task.cancel()
            }
            return await task.value
        }
        switch construct {
        case .tracedOn:
            let result = Mutex("")
            let trace = try await CancelTrace.record(into: InMemoryTrace()) {
                let value = await CancelTrace.withRootTask(name: "main") { await runMaybeCancelled() }
                result.withLock { $0 = value }
            }
            return (result.withLock { $0 }, try RecordedTrace(bytes: trace.bytes))
        case .plain, .tracedOff:
            await RecordingTurns.shared.begin()
            let value = await runMaybeCancelled()
            await RecordingTurns.shared.end()
            return (value, nil)
        }
    }

    static func observe(_ program: ThrowingGroupProgram, _ construct: Construct) async throws -> (Observed, RecordedTrace?) {
        let probe = Probe()
        let (result, trace) = try await run(construct, cancelOuterAfter: program.cancelOuterAfter, probe: probe) {
            await outcome {
                if construct == .plain {
                    try await withThrowingTaskGroup(of: Int.self) { group in try await program.run(&group, probe) }
                } else {
                    try await CancelTrace.withThrowingTaskGroup(of: Int.self) { group in try await program.run(&group, probe) }
                }
            }
        }
        return (probe.observed(result), trace)
    }

    @Test("throwing group ≡ withThrowingTaskGroup", arguments: ThrowingGroupProgram.allCases)
    func throwingGroup(_ program: ThrowingGroupProgram) async throws {
        let (plain, _) = try await Self.observe(program, .plain)
        let (off, _) = try await Self.observe(program, .tracedOff)
        let (on, trace) = try await Self.observe(program, .tracedOn)
        #expect(off == plain)
        #expect(on == plain)
        if let trace { Self.expectEveryCancelledEndHasACancel(trace) }
    }

    @Test("task group ≡ withTaskGroup", arguments: PlainGroupProgram.allCases)
    func plainGroup(_ program: PlainGroupProgram) async throws {
        var observed: [Construct: Observed] = [:]
        for construct in Construct.allCases {
            let probe = Probe()
            let (result, trace) = try await Self.run(construct, cancelOuterAfter: nil, probe: probe) {
                if construct == .plain {
                    await withTaskGroup(of: Int.self) { group in await program.run(&group, probe) }
                } else {
                    await CancelTrace.withTaskGroup(of: Int.self) { group in await program.run(&group, probe) }
                }
            }
            observed[construct] = probe.observed(result)
            if let trace { Self.expectEveryCancelledEndHasACancel(trace) }
        }
        #expect(observed[.tracedOff] == observed[.plain])
        #expect(observed[.tracedOn] == observed[.plain])
    }

    @Test("throwing discarding group ≡ withThrowingDiscardingTaskGroup", arguments: DiscardingGroupProgram.allCases)
    func discardingGroup(_ program: DiscardingGroupProgram) async throws {
        var observed: [Construct: Observed] = [:]
        for construct in Construct.allCases {
            let probe = Probe()
            let (result, trace) = try await Self.run(construct, cancelOuterAfter: nil, probe: probe) {
                await outcome {
                    if construct == .plain {
                        try await withThrowingDiscardingTaskGroup { group in try await program.run(&group, probe) }
                    } else {
                        try await CancelTrace.withThrowingDiscardingTaskGroup { group in try await program.run(&group, probe) }
                    }
                }
            }
            observed[construct] = probe.observed(result)
            if let trace { Self.expectEveryCancelledEndHasACancel(trace) }
        }
        #expect(observed[.tracedOff] == observed[.plain])
        #expect(observed[.tracedOn] == observed[.plain])
    }

    @Test("discarding group ≡ withDiscardingTaskGroup")
    func nonThrowingDiscardingGroup() async throws {
        var observed: [Construct: Observed] = [:]
        for construct in Construct.allCases {
            let probe = Probe()
            let (result, _) = try await Self.run(construct, cancelOuterAfter: nil, probe: probe) {
                if construct == .plain {
                    return await withDiscardingTaskGroup { group in
                        group.addTask { _ = await probe.waiter("w", 0)() }
                        group.addTask { _ = await probe.quick("q", 0)() }
                        await probe.waitFor(["w ran", "q ran"])
                        group.cancelAll()
                        let late = group.addTaskUnlessCancelled { _ = await probe.quick("late", 0)() }
                        return "late added: \(late)"
                    }
                }
                return await CancelTrace.withDiscardingTaskGroup { group in
                    group.addTask { _ = await probe.waiter("w", 0)() }
                    group.addTask { _ = await probe.quick("q", 0)() }
                    await probe.waitFor(["w ran", "q ran"])
                    group.cancelAll()
                    let late = group.addTaskUnlessCancelled { _ = await probe.quick("late", 0)() }
                    return "late added: \(late)"
                }
            }
            observed[construct] = probe.observed(result)
        }
        #expect(observed[.plain]?.facts == ["q ran", "w cancelled", "w ran"])
        #expect(observed[.tracedOff] == observed[.plain])
        #expect(observed[.tracedOn] == observed[.plain])
    }

    @Test("CancelTrace.task ≡ Task, CancelTrace.detached ≡ Task.detached")
    func unstructuredTasks() async throws {
        var observed: [Construct: Observed] = [:]
        for construct in Construct.allCases {
            let probe = Probe()
            let (result, trace) = try await Self.run(construct, cancelOuterAfter: nil, probe: probe) {
                let traced = construct != .plain
                let value: Task<Int, Never> = traced ? CancelTrace.task { 1 } : Task { 1 }
                let throwing: Task<Int, any Error> = traced ? CancelTrace.task(operation: probe.sleeper("s", 2))
                                                            : Task(operation: probe.sleeper("s", 2))
                let detached: Task<Int, any Error> = traced ? CancelTrace.detached(operation: probe.failing("d", Int.self))
                                                            : Task.detached(operation: probe.failing("d", Int.self))
                await probe.waitFor(["s ran"])
                throwing.cancel()
                let cancelled = await outcome { try await throwing.value }
                let failed = await outcome { try await detached.value }
                return "\(await value.value), \(cancelled), \(failed), \(throwing.isCancelled)"
            }
            observed[construct] = probe.observed(result)
            if let trace {
                Self.expectEveryCancelledEndHasACancel(trace)
                // The cancel of `s`, made by main through plain `Task.cancel()`, is recorded as main's explicit cancel.
                let main = try #require(trace.task(named: "main"))
                let cancel = try #require(trace.events.first { $0.kind == .cancel })
                #expect(cancel.canceller == main && cancel.cancelReason == .explicit)
            }
        }
        #expect(observed[.plain]?.outcome == "1, threw CancellationError(), threw ProgramError(d), true")
        #expect(observed[.tracedOff] == observed[.plain])
        #expect(observed[.tracedOn] == observed[.plain])
    }

    /// The crash issue 10 reported: the hand-written timeout through the traced group died with
    /// "Error raised at top level: CancellationError" because the group rethrew the cancelled loser's error.
    @Test func theHandWrittenTimeoutRaceReturnsTheWinnerAndRecordsTheLosersCancel() async throws {
        for construct in [Construct.tracedOff, .tracedOn] {
            let (observed, trace) = try await Self.observe(.timeoutRaceFetchWins, construct)
            #expect(observed.outcome == "returned 1")
            #expect(observed.facts == ["deadline cancelled", "deadline ran", "fetch finished", "fetch ran"])
            guard let trace else { continue }
            let loser = try #require(trace.spawns.first { $0.spawnKind == .groupChild && trace.end(of: $0.task)?.outcome == .cancelled })
            let cancel = try #require(trace.cancels(of: loser.task).first)
            #expect(cancel.canceller == trace.task(named: "main") && cancel.cancelReason == .explicit)
        }
    }

    /// Every task the trace shows ending cancelled was asked to cancel first: no unexplained cancelled end.
    static func expectEveryCancelledEndHasACancel(_ trace: RecordedTrace, sourceLocation: SourceLocation = #_sourceLocation) {
        for spawn in trace.spawns where trace.end(of: spawn.task)?.outcome == .cancelled {
            #expect(!trace.cancels(of: spawn.task).isEmpty, "task \(trace.name(of: spawn.task) ?? "?") ended cancelled without a cancel",
                    sourceLocation: sourceLocation)
        }
    }
}
