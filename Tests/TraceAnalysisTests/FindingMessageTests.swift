import Testing
import TraceAnalysis
import TraceFormat

@Suite struct FindingMessageTests {
    /// One task per rule, each cancelled by main: every rule fires once at least.
    let everyMistake = underMain([
        .spawn(2, "swallower", parent: 1, at: ms(1)),
        .spawn(3, "converter", parent: 1, at: ms(1)),
        .spawn(4, "sleeper", parent: 1, at: ms(1)),
        .spawn(5, "dawdler", parent: 1, at: ms(1)),
        .spawn(6, "fumbler", parent: 1, at: ms(1)),
        .spawn(7, "lingerer", parent: 1, at: ms(1)),
        .spawn(8, "leaker", parent: 1, at: ms(1)),
        .spawn(9, "failer", parent: 1, at: ms(1)),
        .cancel(9, by: 1, at: ms(10)),
        .cancel(2, by: 1, at: ms(10)), .cancel(3, by: 1, at: ms(10)), .cancel(4, by: 1, at: ms(10)),
        .cancel(5, by: 1, at: ms(10)), .cancel(6, by: 1, at: ms(10)), .cancel(7, by: 1, at: ms(10)),
        .cancel(8, by: 1, at: ms(10)),
        .caught(6, at: ms(10)), .cleanupBegin(6, at: ms(10)),
        .caught(7, at: ms(10)), .cleanupBegin(7, at: ms(10)),
        .caught(2, at: ms(11)), .caught(3, at: ms(11)),
        .cleanupEnd(6, .threw, error: "IOError", at: ms(11)), .rethrow(6, at: ms(11)), .end(6, .cancelled, at: ms(11)),
        .end(2, .returned, at: ms(12)),                          // swallowed-cancellation
        .end(3, .failed, error: "LoadError", at: ms(12)),        // cancellation-converted
        .end(4, .returned, at: ms(12)),                          // completed-after-cancel
        .end(9, .failed, error: "URLError", at: ms(12)),         // failed-after-cancel
        .cleanupEnd(7, at: ms(60)), .rethrow(7, at: ms(60)), .end(7, .cancelled, at: ms(60)),  // slow-cleanup
        .end(5, .cancelled, at: ms(900)),                        // slow-cancellation
    ])                                                           // 8 is a leaked-task

    @Test func everyRuleFiresOnATraceWithEveryMistake() throws {
        let report = try TraceScript.analyze(everyMistake, configuration: configuration(thresholds: ["slow-cleanup": ms(10)]))
        #expect(Set(report.ruleIDs) == Set(Rules.all.map(\.id)))
        #expect(report.findingCounts.values.reduce(0, +) == report.findings.count)
    }

    @Test func everyFindingNamesTheTaskTheTimesTheCauseAndTheHelp() throws {
        let report = try TraceScript.analyze(everyMistake, configuration: configuration(thresholds: ["slow-cleanup": ms(10)]))
        for finding in report.findings {
            let rule = try #require(Rules.named(finding.rule))
            #expect(finding.message.contains("task \"\(finding.taskName)\" (#\(finding.task))"), "\(finding.rule)")
            #expect(finding.message.contains(" s"), "\(finding.rule): \(finding.message)")
            #expect(!finding.message.contains("\n"), "\(finding.rule)")
            #expect(finding.notes.first == #"cancelled at 0.010 s by task "main" (#1): explicit cancel()"#, "\(finding.rule)")
            #expect(finding.cancel?.time == ms(10), "\(finding.rule)")
            #expect(finding.help == rule.help)
            #expect(finding.level == rule.defaultLevel)
        }
    }

    @Test func findingsAreSortedByTimeThenTask() throws {
        let report = try TraceScript.analyze(everyMistake, configuration: configuration(thresholds: ["slow-cleanup": ms(10)]))
        let keys = report.findings.map { ($0.time, $0.task) }
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 <= $1 })
    }

    @Test func theCancelMessageIsQuotedInTheCause() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "long_task", parent: 1, at: ms(1)),
            .cancel(2, by: 1, .explicit, message: "user pressed stop", at: ms(10)),
            .caught(2, "CancelledError", at: ms(11)),
            .end(2, .returned, at: ms(12)),
        ]))
        #expect(report.findings.first?.notes == [#"cancelled at 0.010 s by task "main" (#1): explicit cancel() (message: "user pressed stop")"#])
        #expect(report.findings.first?.message.contains("caught CancelledError") == true)
    }

    @Test func timesAreShownInSecondsToTheMicrosecondAndDurationsInReadableUnits() {
        #expect(TraceTime.seconds(0) == "0.000 s")
        #expect(TraceTime.seconds(1_002_000_000) == "1.002 s")
        #expect(TraceTime.seconds(12_031_400) == "0.012031 s")
        #expect(TraceTime.seconds(12_500_000) == "0.0125 s")
        #expect(TraceTime.seconds(61_050_999_999) == "61.050999 s")
        #expect(TraceTime.duration(850) == "850 ns")
        #expect(TraceTime.duration(850_000) == "850 µs")
        #expect(TraceTime.duration(12_340_000) == "12.3 ms")
        #expect(TraceTime.duration(1_502_000_000) == "1.502 s")
    }

    @Test func findingsBeyondTheLimitAreCountedNotKept() throws {
        var analyzer = TraceAnalyzer()
        analyzer.maxFindings = 2
        var steps: [Step] = [.spawn(1, "main", at: 0)]
        for id in TaskID(2)...6 { steps.append(.spawn(id, "leaker", parent: 1, at: ms(1))) }
        let report = try analyzer.analyze(TraceReader(bytes: TraceScript.bytes(steps)))
        #expect(report.findings.count == 2)
        #expect(report.elidedFindings == 4)
        #expect(report.findingCounts["leaked-task"] == 6)
    }
}
