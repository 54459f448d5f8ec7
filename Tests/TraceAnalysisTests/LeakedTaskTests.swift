import Testing
import TraceAnalysis
import TraceFormat

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

    @Test func tasksThatEndAreNotLeaked() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "worker", parent: 1, at: ms(5)),
            .end(2, .returned, at: ms(6)),
        ]))
        #expect(report.findings.isEmpty)
    }
}
