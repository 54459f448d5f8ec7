import Testing
import TraceAnalysis
import TraceFormat

@Suite struct SlowCancellationTests {
    /// Worker #2 cancelled at 100 ms that ends cancelled `latency` nanoseconds later.
    func cancelled(after latency: UInt64) -> [Step] {
        underMain([
            .spawn(2, "crunch", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(100)),
            .end(2, .cancelled, at: ms(100) + latency),
        ])
    }

    @Test func theDefaultThresholdIs100Milliseconds() {
        #expect(SlowCancellation().defaultThreshold == 100_000_000)
        #expect(RuleConfiguration().threshold(for: SlowCancellation()) == 100_000_000)
    }

    @Test func endingExactlyAtTheThresholdIsNotSlow() throws {
        let report = try TraceScript.analyze(cancelled(after: ms(100)))
        #expect(report.findings.isEmpty)
    }

    @Test func endingOneNanosecondPastTheThresholdIsSlow() throws {
        let report = try TraceScript.analyze(cancelled(after: ms(100) + 1))
        #expect(report.ruleIDs == ["slow-cancellation"])
        let finding = try #require(report.findings.first)
        #expect(finding.level == .warning)
        #expect(finding.message == #"task "crunch" (#2) ended at 0.200 s, 100.0 ms after its cancel request at 0.100 s, more than 100.0 ms"#)
        #expect(finding.notes == [#"cancelled at 0.100 s by task "main" (#1): explicit cancel()"#])
    }

    @Test func theThresholdIsConfigurable() throws {
        let config = configuration(thresholds: ["slow-cancellation": ms(250)])
        #expect(try TraceScript.analyze(cancelled(after: ms(200)), configuration: config).findings.isEmpty)
        #expect(try TraceScript.analyze(cancelled(after: ms(250)), configuration: config).findings.isEmpty)
        let slow = try TraceScript.analyze(cancelled(after: ms(250) + 1), configuration: config)
        #expect(slow.ruleIDs == ["slow-cancellation"])
        #expect(slow.findings.first?.message.hasSuffix("more than 250.0 ms") == true)
        // A lower threshold flags what the default lets through.
        let strict = configuration(thresholds: ["slow-cancellation": ms(10)])
        #expect(try TraceScript.analyze(cancelled(after: ms(50)), configuration: strict).ruleIDs == ["slow-cancellation"])
    }

    @Test func latencyIsMeasuredFromTheCancelThatWasNotWithdrawn() throws {
        // A withdrawn timeout at 10 ms does not start the clock; the real cancel at 100 ms does.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "crunch", parent: 1, at: ms(1)),
            .cancel(2, by: 2, .timeout, at: ms(10)),
            .uncancel(2, at: ms(10)),
            .cancel(2, by: 1, at: ms(100)),
            .end(2, .cancelled, at: ms(150)),
        ]))
        #expect(report.findings.isEmpty)
    }

    @Test func aCancelledTaskThatNeverEndsIsLeakedNotSlow() throws {
        let report = try TraceScript.analyze([
            .spawn(1, "main", at: 0),
            .cancel(1, at: ms(1)),
            .mark(0, "later", at: ms(5000)),
        ])
        #expect(report.ruleIDs == ["leaked-task"])
    }
}
