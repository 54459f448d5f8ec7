import Testing
import TraceAnalysis
import TraceFormat

@Suite struct FailedAfterCancelTests {
    @Test func failingWithAnotherErrorAfterTheCancelWithNoCatchIsANoteSayingSo() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "upload", parent: 1, at: ms(1)),
            .site(2, "App/Upload.swift:12 (start())", at: ms(1)),
            .cancel(2, by: 1, .explicit, at: ms(300)),
            .end(2, .failed, error: "URLError", at: ms(302)),
        ]))
        #expect(report.ruleIDs == ["failed-after-cancel"])
        let finding = try #require(report.findings.first)
        #expect(finding.level == .note)
        #expect(finding.message == #"task "upload" (#2) was cancelled at 0.300 s, then failed with URLError at 0.302 s"#)
        #expect(finding.notes.contains("created at App/Upload.swift:12 (start())"))
    }

    @Test func itsLevelIsConfigurable() throws {
        var configuration = RuleConfiguration()
        configuration.levels["failed-after-cancel"] = .error
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "upload", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(300)),
            .end(2, .failed, error: "URLError", at: ms(302)),
        ]), configuration: configuration)
        #expect(report.findings.map(\.level) == [.error])
    }

    @Test func aRecordedCatchOrAReceivedSignalMakesItAConversionInstead() throws {
        for evidence in [Step.caught(2, at: ms(301)), .signal(2, .received, via: "Task.sleep", at: ms(301))] {
            let report = try TraceScript.analyze(underMain([
                .spawn(2, "upload", parent: 1, at: ms(1)),
                .cancel(2, by: 1, at: ms(300)),
                evidence,
                .end(2, .failed, error: "URLError", at: ms(302)),
            ]))
            #expect(report.ruleIDs == ["cancellation-converted"])
        }
    }

    @Test func notReportedForATimeoutErrorAfterATimeoutNorWithoutACancel() throws {
        let timeout = try TraceScript.analyze(underMain([
            .spawn(2, "op", parent: 1, at: ms(1)),
            .cancel(2, by: 1, .timeout, at: ms(300)),
            .end(2, .failed, error: "RequestTimeout", at: ms(301)),
        ]))
        #expect(timeout.findings.isEmpty)
        let plain = try TraceScript.analyze(underMain([
            .spawn(2, "op", parent: 1, at: ms(1)),
            .end(2, .failed, error: "URLError", at: ms(301)),
        ]))
        #expect(plain.findings.isEmpty)
        let cancelled = try TraceScript.analyze(underMain([
            .spawn(2, "op", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(300)),
            .end(2, .cancelled, error: "CancellationError", at: ms(301)),
        ]))
        #expect(cancelled.findings.isEmpty)
    }
}
