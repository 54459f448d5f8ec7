import Testing
import TraceAnalysis
import TraceFormat
import TraceTestSupport

@Suite struct TaskTrackerTests {
    @Test func aTaskWhoseSpawnWasLostIsTrackedAndCounted() throws {
        let (tracker, ended, _) = try TraceScript.track([
            .spawn(1, "main", at: 0),
            .cancel(5, by: 1, at: ms(2)),
            .caught(5, at: ms(3)),
            .end(5, .cancelled, at: ms(4)),
            .end(6, .returned, at: ms(5)),
            .end(1, .returned, at: ms(6)),
        ])
        #expect(tracker.tasksWithoutSpawn == 2)
        let orphan = try #require(ended.first { $0.id == 5 })
        #expect(orphan.spawnTime == nil)
        #expect(orphan.firstSeen == ms(2))
        #expect(orphan.name == "#5")
        #expect(orphan.cancels.count == 1)
        #expect(orphan.end?.outcome == .cancelled)
        #expect(ended.map(\.id) == [5, 6, 1])
    }

    @Test func aLostChunkLeavesItsTasksWithoutSpawnAndTheRestIsAnalyzed() throws {
        // One event per chunk; damage the chunk holding worker's spawn.
        var bytes = try TraceScript.bytes(underMain([
            .spawn(2, "worker", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .caught(2, at: ms(11)),
            .end(2, .returned, at: ms(12)),
        ]), chunkSize: 1)
        let chunks = chunkOffsets(bytes)
        #expect(chunks.count >= 7)
        bytes[chunks[2] + TraceLayout.chunkHeaderSize + 2] ^= 0xFF  // info, spawn main, spawn worker …
        let report = try TraceAnalyzer().analyze(TraceReader(bytes: bytes))
        #expect(report.damaged)
        #expect(report.tasksWithoutSpawn == 1)
        #expect(report.ruleIDs == ["swallowed-cancellation"])
        #expect(report.findings.first?.message.hasPrefix(##"task "#2" (#2) caught"##) == true)
    }

    @Test func aRecordAfterTheEndIsCountedAndStartsNoTask() throws {
        let (tracker, ended, unended) = try TraceScript.track([
            .spawn(2, "worker", at: 0),
            .end(2, .returned, at: ms(1)),
            .cancel(2, at: ms(2)),
            .mark(2, "late", at: ms(3)),
        ])
        #expect(ended.map(\.id) == [2])
        #expect(unended.isEmpty)
        #expect(tracker.recordsAfterEnd == 2)
        #expect(tracker.tasksWithoutSpawn == 0)
        #expect(tracker.liveCount == 0)
    }

    @Test func aTaskSeenOnlyThroughItsEndIsRememberedAsEndedToo() throws {
        let (tracker, ended, unended) = try TraceScript.track([
            .end(7, .returned, at: ms(1)),
            .cancel(7, at: ms(2)),
        ])
        #expect(ended.map(\.id) == [7])
        #expect(unended.isEmpty)
        #expect(tracker.tasksWithoutSpawn == 1)
        #expect(tracker.recordsAfterEnd == 1)
    }

    @Test func anIdSpawnedAgainAfterItsTaskEndedIsANewTask() throws {
        let (tracker, ended, unended) = try TraceScript.track([
            .spawn(2, "first", at: 0),
            .end(2, .returned, at: ms(1)),
            .spawn(2, "second", at: ms(2)),
            .cancel(2, at: ms(3)),
            .end(2, .cancelled, at: ms(4)),
        ])
        #expect(ended.map(\.name) == ["first", "second"])
        #expect(ended.last?.cancels.count == 1)
        #expect(unended.isEmpty)
        #expect(tracker.recordsAfterEnd == 0)
        #expect(tracker.duplicateSpawns == 0)
    }

    @Test func aDuplicateSpawnIsCountedAndTheLaterOneWins() throws {
        let (tracker, ended, _) = try TraceScript.track([
            .spawn(2, "first", at: 0),
            .spawn(2, "second", at: ms(1)),
            .end(2, .returned, at: ms(2)),
        ])
        #expect(tracker.duplicateSpawns == 1)
        #expect(ended.map(\.name) == ["second"])
        #expect(ended.first?.spawnTime == ms(1))
    }

    @Test func overLongListsAreTrimmedToTheirFirstAndLastEntries() throws {
        let count = 1_000
        var steps: [Step] = [.spawn(2, "chatty", at: 0)]
        for i in 0..<count {
            let t = ms(Double(i + 1))
            steps += [.mark(2, "m\(i)", at: t), .cleanupBegin(2, at: t), .cleanupEnd(2, at: t), .rethrow(2, at: t)]
        }
        steps.append(.end(2, .returned, at: ms(Double(count + 1))))
        let (_, ended, _) = try TraceScript.track(steps)
        let task = try #require(ended.first)
        let limit = TaskLifecycle.maxEntriesPerList
        #expect(task.marks.count == limit)
        #expect(task.cleanups.count == limit)
        #expect(task.rethrowTimes.count == limit)
        #expect(task.elidedEntries == 3 * (count - limit))
        #expect(task.marks.first?.label == "m0")
        #expect(task.marks.last?.label == "m\(count - 1)")
        #expect(task.marks[limit / 2 - 1].label == "m\(limit / 2 - 1)")
        #expect(task.marks[limit / 2].label == "m\(count - limit / 2)")
    }

    @Test func aPendingCancelSurvivesTrimmingAmongManyWithdrawnOnes() throws {
        // A task ignores a shutdown cancel and keeps looping with asyncio.timeout, which cancels and uncancels
        // it every round. The pending cancel must not be trimmed away with the withdrawn ones.
        var steps: [Step] = [.spawn(1, "main", at: 0), .spawn(2, "loop", parent: 1, at: 0)]
        var t = ms(1)
        func timeoutRound() {
            steps += [.cancel(2, by: 2, .timeout, at: t), .uncancel(2, at: t)]
            t += ms(1)
        }
        for _ in 0..<40 { timeoutRound() }
        steps.append(.cancel(2, by: 1, .shutdown, at: t)); t += ms(1)
        for _ in 0..<200 { timeoutRound() }
        steps += [.caught(2, at: t), .end(2, .returned, at: t + ms(1)), .end(1, .returned, at: t + ms(2))]
        let (_, ended, _) = try TraceScript.track(steps)
        let loop = try #require(ended.first { $0.id == 2 })
        #expect(loop.cancels.count <= TaskLifecycle.maxEntriesPerList)
        #expect(loop.effectiveCancel?.reason == .shutdown)
        #expect(loop.catches.last?.whileCancelPending == true)
        let report = try TraceScript.analyze(steps, configuration: configuration(levels: ["slow-cancellation": off]))
        #expect(report.ruleIDs == ["swallowed-cancellation"])
    }

    @Test func memoryIsBoundedByLiveTasksNotByTraceLength() {
        var tracker = TaskTracker()
        let strings = StringTable()
        var time: UInt64 = 0
        var ended = 0
        _ = tracker.consume(.spawn(time: time, task: 1, parent: 0, name: 0, how: .root), strings: strings)
        for id in TaskID(2)..<100_002 {
            time += 10
            _ = tracker.consume(.spawn(time: time, task: id, parent: 1, name: 0, how: .child), strings: strings)
            _ = tracker.consume(.cancel(time: time + 1, task: id, by: 1, reason: .explicit), strings: strings)
            if tracker.consume(.end(time: time + 2, task: id, outcome: .cancelled), strings: strings) != nil { ended += 1 }
        }
        #expect(ended == 100_000)
        #expect(tracker.liveCount == 1)
        #expect(tracker.peakLiveCount == 2)
        #expect(tracker.finish().map(\.id) == [1])
        #expect(tracker.liveCount == 0)
    }

    @Test func theCancellersNameIsTakenFromTheLiveCanceller() throws {
        let (_, ended, _) = try TraceScript.track([
            .spawn(1, "main", at: 0),
            .spawn(2, "supervisor", parent: 1, at: ms(1)),
            .spawn(3, "worker", parent: 1, at: ms(1)),
            .spawn(4, "other", parent: 1, at: ms(1)),
            .cancel(3, by: 2, .parent, at: ms(5)),
            .end(2, .returned, at: ms(6)),
            .cancel(4, by: 2, .explicit, at: ms(7)),   // supervisor has ended: its name is gone
            .cancel(4, by: 0, .shutdown, at: ms(8)),
            .end(3, .cancelled, at: ms(9)),
            .end(4, .cancelled, at: ms(9)),
        ])
        let worker = try #require(ended.first { $0.id == 3 })
        #expect(worker.cancels.first?.by == 2)
        #expect(worker.cancels.first?.byName == "supervisor")
        #expect(worker.cancels.first?.reason == .parent)
        #expect(worker.cancels.first?.cause == #"cancelled at 0.005 s by task "supervisor" (#2): its parent was cancelled"#)
        let other = try #require(ended.first { $0.id == 4 })
        #expect(other.cancels.map(\.byName) == [nil, nil])
        #expect(other.cancels.first?.cause == "cancelled at 0.007 s by task #2: explicit cancel()")
        #expect(other.cancels.last?.cause == "cancelled at 0.008 s by an unknown canceller: shutdown")
    }

    @Test func droppedEventsAreSummed() throws {
        let steps: [Step] = [.dropped(3, at: ms(1)), .spawn(1, "main", at: ms(2)), .dropped(5, at: ms(3)),
                             .end(1, .returned, at: ms(4))]
        let (tracker, _, _) = try TraceScript.track(steps)
        #expect(tracker.droppedEvents == 8)
        #expect(try TraceScript.analyze(steps).stats.droppedEvents == 8)
    }

    @Test func uncancelWithdrawsTheLatestPendingCancel() throws {
        let (_, ended, _) = try TraceScript.track([
            .spawn(2, "t", at: 0),
            .cancel(2, by: 0, .explicit, at: ms(1)),
            .cancel(2, by: 2, .timeout, at: ms(2)),
            .uncancel(2, at: ms(3)),
            .end(2, .cancelled, at: ms(4)),
        ])
        let task = try #require(ended.first)
        #expect(task.cancels.map(\.withdrawn) == [false, true])
        #expect(task.effectiveCancel?.reason == .explicit)
        #expect(task.cancelLatency == ms(3))
    }

    @Test func aCatchWithoutAPendingCancelIsNotTheTasksOwn() throws {
        let (_, ended, _) = try TraceScript.track([
            .spawn(1, "main", at: 0),
            .caught(1, at: ms(1)),
            .cancel(1, by: 0, .shutdown, at: ms(2)),
            .caught(1, at: ms(3)),
            .end(1, .cancelled, at: ms(4)),
        ])
        let main = try #require(ended.first)
        #expect(main.catches.map(\.whileCancelPending) == [false, true])
        #expect(main.ownCatches.map(\.time) == [ms(3)])
    }

    @Test func aCleanupEndWhoseBeginWasLostIsKeptAsAnInstant() throws {
        let (_, ended, _) = try TraceScript.track([
            .spawn(2, "t", at: 0),
            .cleanupEnd(2, .threw, error: "IOError", at: ms(5)),
            .end(2, .cancelled, at: ms(6)),
        ])
        let cleanup = try #require(ended.first?.cleanups.first)
        #expect(ended.first?.cleanups.count == 1)
        #expect((cleanup.begin, cleanup.end, cleanup.result, cleanup.errorType) == (ms(5), ms(5), .threw, "IOError"))
    }

    @Test func tasksStillAliveAreHandedOverByIDWhenTheTraceEnds() throws {
        let (tracker, ended, unended) = try TraceScript.track([
            .spawn(9, "late", at: ms(1)),
            .spawn(3, "early", at: ms(2)),
            .mark(0, "not a task", at: ms(3)),
        ], closed: false)
        #expect(ended.isEmpty)
        #expect(unended.map(\.id) == [3, 9])
        #expect(tracker.lastTime == ms(3))
    }

    @Test func eventsAboutTaskZeroAreIgnored() throws {
        let report = try TraceScript.analyze(underMain([
            .cancel(0, by: 1, at: ms(1)),
            .end(0, .returned, at: ms(2)),
        ]), keepTasks: true)
        #expect(report.tasks.map(\.id) == [1])
        #expect(report.findings.isEmpty)
        #expect(report.tasksWithoutSpawn == 0)
    }
}
