import Testing
import TraceAnalysis
import TraceFormat

@Suite struct CleanupFailedTests {
    @Test func cleanupThatThrowsIsReported() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "uploader", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .caught(2, at: ms(11)),
            .cleanupBegin(2, at: ms(11)),
            .cleanupEnd(2, .threw, error: "IOError", at: ms(12)),
            .rethrow(2, at: ms(12)),
            .end(2, .cancelled, at: ms(13)),
        ]))
        #expect(report.ruleIDs == ["cleanup-failed"])
        let finding = try #require(report.findings.first)
        #expect(finding.level == .warning)
        #expect(finding.time == ms(12))
        #expect(finding.message == #"cleanup in task "uploader" (#2) threw IOError at 0.012 s"#)
        #expect(finding.notes == [#"cancelled at 0.010 s by task "main" (#1): explicit cancel()"#])
    }

    @Test func cleanupThatCompletesIsClean() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "uploader", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .caught(2, at: ms(11)),
            .cleanupBegin(2, at: ms(11)),
            .cleanupEnd(2, .ok, at: ms(12)),
            .rethrow(2, at: ms(12)),
            .end(2, .cancelled, at: ms(13)),
        ]))
        #expect(report.findings.isEmpty)
    }

    @Test func eachFailedCleanupIsReported() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "uploader", parent: 1, at: ms(1)),
            .cleanupBegin(2, at: ms(2)),
            .cleanupEnd(2, .threw, at: ms(3)),
            .cleanupBegin(2, at: ms(4)),
            .cleanupEnd(2, .threw, error: "EOFError", at: ms(5)),
            .end(2, .returned, at: ms(6)),
        ]))
        #expect(report.ruleIDs == ["cleanup-failed", "cleanup-failed"])
        #expect(report.findings.first?.message.contains("threw an error at 0.003 s") == true)
    }
}

@Suite struct SlowCleanupTests {
    func cleanup(taking duration: UInt64) -> [Step] {
        underMain([
            .spawn(2, "flusher", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .caught(2, at: ms(10)),
            .cleanupBegin(2, at: ms(10)),
            .cleanupEnd(2, at: ms(10) + duration),
            .rethrow(2, at: ms(10) + duration),
            .end(2, .cancelled, at: ms(10) + duration),
        ])
    }

    /// Slow cleanup also makes the cancellation slow; these tests look at cleanup alone.
    let cleanupOnly = configuration(levels: ["slow-cancellation": off])

    @Test func theDefaultThresholdIs100Milliseconds() {
        #expect(SlowCleanup().defaultThreshold == 100_000_000)
    }

    @Test func cleanupExactlyAtTheThresholdIsNotSlow() throws {
        #expect(try TraceScript.analyze(cleanup(taking: ms(100)), configuration: cleanupOnly).findings.isEmpty)
    }

    @Test func cleanupOneNanosecondPastTheThresholdIsSlow() throws {
        let report = try TraceScript.analyze(cleanup(taking: ms(100) + 1), configuration: cleanupOnly)
        #expect(report.ruleIDs == ["slow-cleanup"])
        let finding = try #require(report.findings.first)
        #expect(finding.message == #"cleanup in task "flusher" (#2) took 100.0 ms (0.010 s to 0.110 s), more than 100.0 ms"#)
        #expect(finding.notes == [#"cancelled at 0.010 s by task "main" (#1): explicit cancel()"#])
    }

    @Test func theThresholdIsConfigurable() throws {
        var config = cleanupOnly
        config.thresholds["slow-cleanup"] = ms(20)
        #expect(try TraceScript.analyze(cleanup(taking: ms(20)), configuration: config).findings.isEmpty)
        #expect(try TraceScript.analyze(cleanup(taking: ms(21)), configuration: config).ruleIDs == ["slow-cleanup"])
    }

    @Test func aCleanupThatNeverFinishedIsNotJudged() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "flusher", parent: 1, at: ms(1)),
            .cleanupBegin(2, at: ms(2)),
            .end(2, .failed, error: "Crash", at: ms(900)),
        ]))
        #expect(report.findings.isEmpty)
    }
}
