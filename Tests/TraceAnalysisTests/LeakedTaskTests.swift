import Testing
import TraceAnalysis
import TraceFormat
import TraceTestSupport

@Suite struct LeakedTaskTests {
    @Test func aTaskStillRunningWhenAClosedTraceEndsIsLeaked() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "heartbeat", parent: 1, how: .detached, at: ms(5)),
        ]))
        // main returns at 15 ms, the trace closes at 16 ms.
        #expect(report.ruleIDs == ["leaked-task"])
        let finding = try #require(report.findings.first)
        #expect(finding.level == .warning)
        #expect(finding.task == 2)
        #expect(finding.time == ms(16))
        #expect(finding.message == #"task "heartbeat" (#2) started at 0.005 s never ended before the trace ended at 0.016 s"#)
        #expect(finding.notes.isEmpty)
        #expect(!report.cutShort)
    }

    @Test func aLeakInATraceThatWasNotClosedNotesTheTraceWasCutShort() throws {
        let report = try TraceScript.analyze([
            .spawn(1, "main", at: 0),
            .spawn(2, "heartbeat", parent: 1, at: ms(5)),
        ], closed: false)
        #expect(report.cutShort)
        #expect(report.ruleIDs == ["leaked-task", "leaked-task"])
        for finding in report.findings {
            #expect(finding.notes == ["the trace was cut short, so the task may have ended after it"])
        }
    }

    @Test func aLeakedTaskThatWasCancelledSaysWhoCancelledIt() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "stuck", parent: 1, at: ms(5)),
            .cancel(2, by: 1, .shutdown, at: ms(6)),
        ]))
        #expect(report.ruleIDs == ["leaked-task"])
        #expect(report.findings.first?.notes == [#"cancelled at 0.006 s by task "main" (#1): shutdown"#])
    }

    @Test func aTaskSeenWithoutItsSpawnSaysWhenItWasFirstSeen() throws {
        let report = try TraceScript.analyze(underMain([
            .mark(7, "still here", at: ms(3)),
        ]))
        #expect(report.ruleIDs == ["leaked-task"])
        #expect(report.findings.first?.message == ##"task "#7" (#7) first seen at 0.003 s never ended before the trace ended at 0.014 s"##)
    }

    @Test func aCancelAfterTheTaskEndedIsIgnoredInsteadOfLeakingAPhantomTask() throws {
        // A cancel that raced the end: the Python recorder or a hand-built trace can write it after the end.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "worker", parent: 1, at: ms(1)),
            .end(2, .returned, at: ms(5)),
            .cancel(2, by: 1, .shutdown, at: ms(6)),
        ]), keepTasks: true)
        #expect(report.findings.isEmpty)
        #expect(report.recordsAfterEnd == 1)
        #expect(report.tasksWithoutSpawn == 0)
        #expect(report.tasks.map(\.id) == [1, 2])
        #expect(report.tasks.last?.cancels.isEmpty == true)
    }

    @Test func noKindOfRecordAfterTheEndStartsATask() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "worker", parent: 1, at: ms(1)),
            .end(2, .cancelled, at: ms(2)),
            .cancel(2, by: 1, at: ms(3)),
            .caught(2, at: ms(3)),
            .cleanupBegin(2, at: ms(3)),
            .cleanupEnd(2, .threw, error: "IOError", at: ms(4)),
            .rethrow(2, at: ms(4)),
            .mark(2, "late", at: ms(4)),
            .uncancel(2, at: ms(4)),
            .end(2, .returned, at: ms(5)),
        ]), keepTasks: true)
        #expect(report.findings.isEmpty)
        #expect(report.recordsAfterEnd == 8)
        #expect(report.tasks.map(\.id) == [1, 2])
        #expect(report.tasks.last?.end?.outcome == .cancelled)
    }

    @Test func aLeakInADamagedTraceNotesThatTheEndMayHaveBeenLost() throws {
        // One event per chunk; damage the chunk holding worker's end.
        var bytes = try TraceScript.bytes(underMain([
            .spawn(2, "worker", parent: 1, at: ms(1)),
            .end(2, .returned, at: ms(5)),
        ]), chunkSize: 1)
        let chunks = chunkOffsets(bytes)
        #expect(chunks.count == 6)  // info, spawn main, spawn worker, end worker, end main, close
        bytes[chunks[3] + TraceLayout.chunkHeaderSize + 2] ^= 0xFF
        let report = try TraceAnalyzer().analyze(TraceReader(bytes: bytes))
        #expect(report.damaged)
        #expect(report.damagedChunks == 1)
        #expect(report.ruleIDs == ["leaked-task"])
        let finding = try #require(report.findings.first)
        #expect(finding.level == .warning)
        #expect(finding.task == 2)
        #expect(finding.notes == ["the trace is damaged (1 chunk skipped), so the task's end may have been lost"])
    }

    @Test func aLeakInATraceThatWasCutShortAndDamagedHasBothNotes() throws {
        var bytes = try TraceScript.bytes([
            .spawn(1, "main", at: 0),
            .spawn(2, "worker", parent: 1, at: ms(1)),
            .end(2, .returned, at: ms(5)),
            .mark(1, "a", at: ms(6)),
            .mark(1, "b", at: ms(7)),
        ], closed: false, chunkSize: 1)
        let chunks = chunkOffsets(bytes)
        bytes[chunks[2] + TraceLayout.chunkHeaderSize + 2] ^= 0xFF  // info, spawn main, spawn worker …
        bytes[chunks[4] + TraceLayout.chunkHeaderSize + 2] ^= 0xFF  // … end worker, mark a
        let report = try TraceAnalyzer().analyze(TraceReader(bytes: bytes))
        #expect(report.cutShort)
        #expect(report.damagedChunks == 2)
        #expect(report.ruleIDs == ["leaked-task"])
        #expect(report.findings.first?.task == 1)
        #expect(report.findings.first?.notes == [
            "the trace was cut short, so the task may have ended after it",
            "the trace is damaged (2 chunks skipped), so the task's end may have been lost",
        ])
    }

    @Test func tasksThatEndAreNotLeaked() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "worker", parent: 1, at: ms(5)),
            .end(2, .returned, at: ms(6)),
        ]))
        #expect(report.findings.isEmpty)
    }
}
