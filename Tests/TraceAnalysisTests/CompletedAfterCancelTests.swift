import Testing
import TraceAnalysis
import TraceFormat

@Suite struct CompletedAfterCancelTests {
    @Test func returningNormallyWithNoSignOfTheCancelIsCompletedAfterCancel() throws {
        // `while … { try? await Task.sleep(…) }`: the sleep's CancellationError becomes nil and the loop finishes.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "poller", parent: 1, at: ms(1)),
            .cancel(2, by: 1, .explicit, at: ms(200)),
            .end(2, .returned, at: ms(250)),
        ]))
        #expect(report.ruleIDs == ["completed-after-cancel"])
        let finding = try #require(report.findings.first)
        #expect(finding.level == .warning)
        #expect(finding.time == ms(250))
        #expect(finding.message == #"task "poller" (#2) was cancelled at 0.200 s and returned normally at 0.250 s with no sign it saw the cancellation"#)
        #expect(finding.notes == [#"cancelled at 0.200 s by task "main" (#1): explicit cancel()"#])
    }

    @Test func aTaskThatEndsCancelledAfterCancelIsNotCompletedAfterCancel() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "poller", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(200)),
            .end(2, .cancelled, at: ms(201)),
        ]))
        #expect(report.findings.isEmpty)
    }

    @Test func aCatchAfterTheCancelMakesItASwallowNotACompletion() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "poller", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(200)),
            .caught(2, at: ms(201)),
            .end(2, .returned, at: ms(202)),
        ]))
        #expect(report.ruleIDs == ["swallowed-cancellation"])
    }

    @Test func returningAfterAWithdrawnCancelIsClean() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "poller", parent: 1, at: ms(1)),
            .cancel(2, by: 2, .timeout, at: ms(200)),
            .uncancel(2, at: ms(200)),
            .end(2, .returned, at: ms(202)),
        ]))
        #expect(report.findings.isEmpty)
    }

    @Test func aCancelFromAnUnknownCancellerSaysSo() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "poller", parent: 1, at: ms(1)),
            .cancel(2, by: 0, .unknown, at: ms(200)),
            .end(2, .returned, at: ms(202)),
        ]))
        #expect(report.findings.first?.notes == ["cancelled at 0.200 s by an unknown canceller: reason unknown"])
    }
}
