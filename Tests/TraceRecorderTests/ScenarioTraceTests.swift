import Samples
import Testing
import TraceFormat
import TraceRecorder

/// Each scenario recorded and read back: the events the analyzer will work from.
@Suite("Scenario traces", .serialized)
struct ScenarioTraceTests {
    @Test("every scenario writes a complete, closed, well-nested trace", arguments: Scenario.allCases)
    func everyScenarioWritesAWellFormedTrace(_ scenario: Scenario) async throws {
        let trace = try RecordedTrace(bytes: try await scenario.recordInMemory())

        #expect(trace.notices.isEmpty, "\(trace.notices)")
        #expect(trace.sawClose)
        #expect(trace.events.last?.kind == .close)
        #expect(trace.info[TraceInfo.Key.runtime] == "swift")
        for key in [TraceInfo.Key.recorder, TraceInfo.Key.recorderVersion, TraceInfo.Key.pid, TraceInfo.Key.process,
                    TraceInfo.Key.wallClockStartNs, TraceInfo.Key.clockResolutionNs] {
            #expect(trace.info[key] != nil, "missing info \(key)")
        }
        let firstNonInfo = trace.events.firstIndex { $0.kind != .info } ?? 0
        #expect(trace.events[..<firstNonInfo].count == 7)

        // File order is time order.
        #expect(trace.firstTimeGoingBackwards == nil)

        // One root, "main"; every other task descends from it.
        let main = try #require(trace.task(named: "main"))
        let root = try #require(trace.spawn(of: main))
        #expect(root.spawnKind == .root && root.parent == 0)
        for spawn in trace.spawns where spawn.task != main {
            var ancestor = spawn.parent
            var depth = 0
            while ancestor != main && ancestor != 0 && depth < 10 {
                ancestor = trace.spawn(of: ancestor)?.parent ?? 0
                depth += 1
            }
            #expect(ancestor == main, "task \(trace.name(of: spawn.task) ?? "?") does not nest under main")
        }

        // Every spawned task ends exactly once, after its spawn and after everything else about it.
        for spawn in trace.spawns {
            let events = trace.events(of: spawn.task)
            #expect(events.filter { $0.kind == .end }.count == 1, "\(trace.name(of: spawn.task) ?? "?") ends once")
            #expect(events.last?.kind == .end)
            let spawnIndex = trace.events.firstIndex(of: spawn)!
            let firstOther = trace.events.firstIndex { $0.kind != .spawn && $0.task == spawn.task && $0.kind != .info }
            #expect(firstOther.map { $0 > spawnIndex } ?? true)
        }
    }

    @Test func cancelCleanupRethrowRecordsTheWholePatternInOrder() async throws {
        let trace = try RecordedTrace(bytes: try await Scenario.cancelCleanupRethrow.recordInMemory())
        let main = try #require(trace.task(named: "main"))
        let worker = try #require(trace.task(named: "long_task"))

        #expect(trace.spawn(of: worker)?.parent == main)
        #expect(trace.spawn(of: worker)?.spawnKind == .unstructured)
        #expect(trace.kinds(of: worker) == [.cancel, .caught, .cleanupBegin, .cleanupEnd, .rethrow, .end])
        let events = trace.events(of: worker)
        #expect(events[0].canceller == main && events[0].cancelReason == .explicit)
        #expect(trace.strings[events[1].errorType] == "CancellationError")
        #expect(events[3].cleanupResult == .ok)
        #expect(events[5].outcome == .cancelled)
        #expect(trace.end(of: main)?.outcome == .returned)
    }

    @Test func swallowCatchAllCatchesAndReturns() async throws {
        let trace = try RecordedTrace(bytes: try await Scenario.swallowCatchAll.recordInMemory())
        let worker = try #require(trace.task(named: "long_task"))
        #expect(trace.kinds(of: worker) == [.cancel, .caught, .end])
        #expect(trace.end(of: worker)?.outcome == .returned)
    }

    @Test func swallowTrySleepReturnsWithoutSeeingTheCancel() async throws {
        let trace = try RecordedTrace(bytes: try await Scenario.swallowTrySleep.recordInMemory())
        let poller = try #require(trace.task(named: "poller"))
        let kinds = trace.kinds(of: poller)
        #expect(kinds.contains(.cancel))
        #expect(!kinds.contains(.caught))
        #expect(kinds.filter { $0 == .mark }.count == 10)
        #expect(trace.end(of: poller)?.outcome == .returned)
    }

    @Test func timeoutCancelsItsOperationWithReasonTimeout() async throws {
        let trace = try RecordedTrace(bytes: try await Scenario.timeout.recordInMemory())
        let main = try #require(trace.task(named: "main"))
        let operation = try #require(trace.task(named: "slow_operation"))
        #expect(trace.spawn(of: operation)?.parent == main)
        #expect(trace.spawn(of: operation)?.spawnKind == .child)
        #expect(trace.kinds(of: operation) == [.cancel, .end])
        let cancel = try #require(trace.cancels(of: operation).first)
        #expect(cancel.cancelReason == .timeout && cancel.canceller == main)
        #expect(trace.end(of: operation)?.outcome == .cancelled)
        #expect(trace.cancels(of: main).isEmpty)
        #expect(trace.end(of: main)?.outcome == .returned)
    }

    @Test func groupFailureCancelsEachRunningSiblingForSiblingFailure() async throws {
        let trace = try RecordedTrace(bytes: try await Scenario.groupSiblingFailure.recordInMemory())
        let main = try #require(trace.task(named: "main"))
        let failing = try #require(trace.task(named: "failing"))
        let failEnd = try #require(trace.end(of: failing))
        #expect(failEnd.outcome == .failed)
        #expect(trace.strings[failEnd.errorType] == "SensorOffline")
        #expect(trace.cancels(of: failing).isEmpty)
        for name in ["worker-1", "worker-2"] {
            let worker = try #require(trace.task(named: name))
            #expect(trace.spawn(of: worker)?.spawnKind == .groupChild)
            #expect(trace.spawn(of: worker)?.parent == main)
            let cancels = trace.cancels(of: worker)
            #expect(cancels.count == 1)
            #expect(cancels.first?.cancelReason == .siblingFailure)
            #expect(cancels.first?.canceller == main)
            #expect(cancels.first.map { $0.time >= failEnd.time } ?? false)
            #expect(trace.end(of: worker)?.outcome == .cancelled)
        }
    }

    @Test func shieldedOperationEndsReturnedAfterTheOuterCancel() async throws {
        let trace = try RecordedTrace(bytes: try await Scenario.shield.recordInMemory())
        let outer = try #require(trace.task(named: "outer"))
        let critical = try #require(trace.task(named: "critical"))
        #expect(trace.spawn(of: critical)?.parent == outer)
        let outerCancel = try #require(trace.cancels(of: outer).first)
        #expect(trace.cancels(of: critical).isEmpty)
        let criticalEnd = try #require(trace.end(of: critical))
        #expect(criticalEnd.outcome == .returned)
        #expect(criticalEnd.time >= outerCancel.time)
        let outerEnd = try #require(trace.end(of: outer))
        #expect(outerEnd.outcome == .cancelled)
        #expect(outerEnd.time >= criticalEnd.time)
    }

    @Test func convertErrorEndsFailedWithTheOtherError() async throws {
        let trace = try RecordedTrace(bytes: try await Scenario.convertError.recordInMemory())
        let fetch = try #require(trace.task(named: "fetch"))
        #expect(trace.kinds(of: fetch) == [.cancel, .caught, .end])
        let end = try #require(trace.end(of: fetch))
        #expect(end.outcome == .failed)
        #expect(trace.strings[end.errorType] == "FetchFailed")
    }

    @Test func cancellerCatchesItsChildsCancellationWithoutBeingCancelled() async throws {
        let trace = try RecordedTrace(bytes: try await Scenario.cancellerAwaits.recordInMemory())
        let main = try #require(trace.task(named: "main"))
        let work = try #require(trace.task(named: "work"))
        #expect(trace.kinds(of: work) == [.cancel, .end])
        #expect(trace.end(of: work)?.outcome == .cancelled)
        #expect(trace.kinds(of: main) == [.caught, .end])
        #expect(trace.end(of: main)?.outcome == .returned)
    }

    @Test func recordingToAPathWritesTheSameKindOfTrace() async throws {
        let path = temporaryPath("scenario")
        defer { removeFile(path) }
        try await Scenario.cancelCleanupRethrow.record(to: path)
        let trace = try RecordedTrace(path: path)
        #expect(trace.sawClose && trace.notices.isEmpty)
        #expect(trace.task(named: "long_task") != nil)
    }

    @Test func scenarioNamesAndExpectationsAreTheDocumentedOnes() {
        #expect(Scenario.allCases.map(\.rawValue) == [
            "cancel-cleanup-rethrow", "swallow-catch-all", "swallow-try-sleep", "timeout",
            "group-sibling-failure", "shield", "convert-error", "canceller-awaits",
        ])
        #expect(Scenario.allCases.filter { !$0.expectedRules.isEmpty }.map(\.rawValue)
                == ["swallow-catch-all", "swallow-try-sleep", "convert-error"])
    }
}
