import Testing
import TraceAnalysis
import TraceFormat

@Suite struct CancellationConvertedTests {
    @Test func catchingTheCancellationAndThrowingAnotherErrorIsConverted() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "loader", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(100)),
            .caught(2, at: ms(101)),
            .end(2, .failed, error: "DatabaseError", at: ms(102)),
        ]))
        #expect(report.ruleIDs == ["cancellation-converted"])
        let finding = try #require(report.findings.first)
        #expect(finding.level == .warning)
        #expect(finding.message == #"task "loader" (#2) caught CancellationError at 0.101 s and ended with DatabaseError at 0.102 s"#)
        #expect(finding.notes == [#"cancelled at 0.100 s by task "main" (#1): explicit cancel()"#])
    }

    @Test func aCancelWithdrawnByUncancelThenTimeoutErrorIsNotConverted() throws {
        // Python's asyncio.timeout: cancel own task, catch, uncancel(), raise TimeoutError.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "fetch", parent: 1, at: ms(1)),
            .cancel(2, by: 2, .timeout, at: ms(50)),
            .caught(2, "CancelledError", at: ms(50)),
            .uncancel(2, at: ms(50)),
            .end(2, .failed, error: "TimeoutError", at: ms(51)),
        ]))
        #expect(report.findings.isEmpty)
    }

    @Test(arguments: ["TimeoutError", "asyncio.TimeoutError", "RequestTimeout"])
    func aTimeoutCancelEndingInATimeoutErrorIsExcepted(error: String) throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "fetch", parent: 1, at: ms(1)),
            .cancel(2, by: 1, .timeout, at: ms(50)),
            .caught(2, at: ms(50)),
            .end(2, .failed, error: error, at: ms(51)),
        ]))
        #expect(report.findings.isEmpty)
    }

    @Test func aTimeoutCancelEndingInAnUnrelatedErrorIsConverted() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "fetch", parent: 1, at: ms(1)),
            .cancel(2, by: 1, .timeout, at: ms(50)),
            .caught(2, at: ms(50)),
            .end(2, .failed, error: "ValueError", at: ms(51)),
        ]))
        #expect(report.ruleIDs == ["cancellation-converted"])
        #expect(report.findings.first?.notes == [#"cancelled at 0.050 s by task "main" (#1): timeout"#])
    }

    @Test func anExplicitCancelEndingInATimeoutErrorIsConverted() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "fetch", parent: 1, at: ms(1)),
            .cancel(2, by: 1, .explicit, at: ms(50)),
            .caught(2, at: ms(50)),
            .end(2, .failed, error: "TimeoutError", at: ms(51)),
        ]))
        #expect(report.ruleIDs == ["cancellation-converted"])
    }

    @Test func failingAfterACancelWithoutCatchingItIsNotConverted() throws {
        // Nothing shows the task's code saw the cancellation: the failure may be unrelated, and is reported as
        // just what it is, by failed-after-cancel.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "fetch", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(50)),
            .end(2, .failed, error: "IOError", at: ms(51)),
        ]))
        #expect(report.ruleIDs == ["failed-after-cancel"])
    }

    @Test func aTimeoutsCatchBeforeALaterCancelIsNotBlamedForAFailure() throws {
        // The only catch belonged to a withdrawn timeout; nothing shows the task caught the later cancel.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "fetch", parent: 1, at: ms(1)),
            .cancel(2, by: 2, .timeout, at: ms(10)),
            .caught(2, "CancelledError", at: ms(10)),
            .uncancel(2, at: ms(10)),
            .cancel(2, by: 1, at: ms(20)),
            .end(2, .failed, error: "IOError", at: ms(21)),
        ]))
        #expect(report.ruleIDs == ["failed-after-cancel"])
    }

    @Test func endingCancelledAfterACatchIsNotConverted() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "fetch", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(50)),
            .caught(2, at: ms(50)),
            .rethrow(2, at: ms(50)),
            .end(2, .cancelled, at: ms(51)),
        ]))
        #expect(report.findings.isEmpty)
    }
}
