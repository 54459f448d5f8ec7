import Testing
import TraceAnalysis
import TraceFormat

@Suite struct SwallowedCancellationTests {
    @Test func catchAllThatReturnsIsASwallow() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(3, "long_task", parent: 1, at: ms(0.5)),
            .cancel(3, by: 1, .explicit, at: ms(1001)),
            .caught(3, at: ms(1002)),
            .end(3, .returned, at: ms(1004)),
        ]))
        #expect(report.ruleIDs == ["swallowed-cancellation"])
        let finding = try #require(report.findings.first)
        #expect(finding.level == .error)
        #expect(finding.task == 3)
        #expect(finding.taskName == "long_task")
        #expect(finding.time == ms(1004))
        #expect(finding.message == #"task "long_task" (#3) caught CancellationError at 1.002 s and returned normally at 1.004 s"#)
        #expect(finding.notes == [#"cancelled at 1.001 s by task "main" (#1): explicit cancel()"#])
        #expect(finding.help == SwallowedCancellation().help)
        #expect(finding.cancel?.by == 1)
        #expect(report.highestLevel == .error)
    }

    @Test func catchAndCleanupWithoutRethrowIsASwallow() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "worker", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .caught(2, at: ms(11)),
            .cleanupBegin(2, at: ms(12)),
            .cleanupEnd(2, at: ms(13)),
            .end(2, .returned, at: ms(14)),
        ]))
        #expect(report.ruleIDs == ["swallowed-cancellation"])
    }

    @Test func rethrowCaughtAgainByAnOuterCatchThatReturnsIsASwallow() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "worker", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .caught(2, at: ms(11)),
            .rethrow(2, at: ms(12)),
            .caught(2, at: ms(13)),
            .end(2, .returned, at: ms(14)),
        ]))
        #expect(report.ruleIDs == ["swallowed-cancellation"])
        #expect(report.findings.first?.message.contains("caught CancellationError at 0.013 s") == true)
    }

    @Test func catchCleanupRethrowThenEndCancelledIsClean() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "worker", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .caught(2, at: ms(11)),
            .cleanupBegin(2, at: ms(11)),
            .cleanupEnd(2, at: ms(15)),
            .rethrow(2, at: ms(15)),
            .end(2, .cancelled, at: ms(16)),
        ]))
        #expect(report.findings.isEmpty)
    }

    @Test func cancellerCatchingTheChildsCancellationWhileAwaitingItIsNotASwallow() throws {
        // `child.cancel(); do { try await child.value } catch { }` in main: main has no pending cancel of its own.
        let report = try TraceScript.analyze([
            .spawn(1, "main", at: 0),
            .spawn(2, "child", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .end(2, .cancelled, at: ms(11)),
            .caught(1, at: ms(11)),
            .end(1, .returned, at: ms(12)),
        ])
        #expect(report.findings.isEmpty)
    }

    @Test func aCatchByTheTasksCodeIsASwallowEvenWhenTheTimeoutLaterWithdrawsItsCancel() throws {
        // asyncio.wait_for on 3.12+: the timeout cancels the task itself, the task's code catches the
        // CancelledError and returns, and the timeout's __aexit__ still calls uncancel(). (A correct timeout records
        // no `caught`: recorders record only the task's own code, not asyncio's.)
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "fetch", parent: 1, at: ms(1)),
            .cancel(2, by: 2, .timeout, at: ms(50)),
            .caught(2, "CancelledError", at: ms(50)),
            .uncancel(2, at: ms(50)),
            .end(2, .returned, at: ms(51)),
        ]))
        #expect(report.ruleIDs == ["swallowed-cancellation"])
    }

    @Test func aTimeoutThatConvertsItsOwnCancelWithoutTheTasksCodeCatchingItIsClean() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "fetch", parent: 1, at: ms(1)),
            .cancel(2, by: 2, .timeout, at: ms(50)),
            .uncancel(2, at: ms(50)),
            .end(2, .returned, at: ms(51)),
        ]))
        #expect(report.findings.isEmpty)
    }

    @Test func aSwallowedTimeoutAndALaterIgnoredCancelAreBothReported() throws {
        // The task's code swallowed the timeout's cancellation (withdrawn afterwards), and never saw the later one.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "poller", parent: 1, at: ms(1)),
            .cancel(2, by: 2, .timeout, at: ms(10)),
            .caught(2, "CancelledError", at: ms(10)),
            .uncancel(2, at: ms(10)),
            .cancel(2, by: 1, .shutdown, at: ms(20)),
            .end(2, .returned, at: ms(30)),
        ]))
        #expect(Set(report.ruleIDs) == ["completed-after-cancel", "swallowed-cancellation"])
    }
}
