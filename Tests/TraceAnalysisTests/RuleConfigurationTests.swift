import Testing
import TraceAnalysis
import TraceFormat

@Suite struct RuleConfigurationTests {
    let swallow = underMain([
        .spawn(2, "worker", parent: 1, at: ms(1)),
        .cancel(2, by: 1, at: ms(10)),
        .caught(2, at: ms(11)),
        .end(2, .returned, at: ms(12)),
        .spawn(3, "leaker", parent: 1, at: ms(13)),
    ])

    @Test func rulesUseTheirDefaultLevelsUnlessConfigured() throws {
        let report = try TraceScript.analyze(swallow)
        #expect(report.findings.map(\.level) == [.error, .warning])
        #expect(report.highestLevel == .error)
    }

    @Test func levelsAreConfigurable() throws {
        let config = configuration(levels: ["swallowed-cancellation": .warning, "leaked-task": .error])
        let report = try TraceScript.analyze(swallow, configuration: config)
        #expect(report.ruleIDs == ["swallowed-cancellation", "leaked-task"])
        #expect(report.findings.map(\.level) == [.warning, .error])
        let notes = try TraceScript.analyze(swallow, configuration: configuration(levels: [
            "swallowed-cancellation": .note, "leaked-task": .note]))
        #expect(notes.highestLevel == .note)
    }

    @Test func anAllowedTaskLosesOnlyTheFindingsItWasAllowedAndTheyAreCounted() throws {
        var config = RuleConfiguration()
        config.suppressions = [Suppression(rule: "swallowed-cancellation", task: "work*")]
        let report = try TraceScript.analyze(swallow, configuration: config)
        #expect(report.ruleIDs == ["leaked-task"])
        #expect(report.suppressedFindings == 1)
        #expect(report.findingCounts["swallowed-cancellation"] == nil)

        config.suppressions = [Suppression(rule: "leaked-task", task: "worker")]  // another rule: nothing dropped
        #expect(try TraceScript.analyze(swallow, configuration: config).ruleIDs == ["swallowed-cancellation", "leaked-task"])
        config.suppressions = [Suppression(task: "#3")]  // the leaker, by id, every rule
        #expect(try TraceScript.analyze(swallow, configuration: config).ruleIDs == ["swallowed-cancellation"])
        config.suppressions = [Suppression(task: "work")]  // names match exactly unless they end with *
        #expect(try TraceScript.analyze(swallow, configuration: config).suppressedFindings == 0)
        config.suppressions = [Suppression(task: "App/Worker.swift:*")]  // or the site the task was created at
        let sited = try TraceScript.analyze(underMain([
            .spawn(2, "worker", parent: 1, at: ms(1)),
            .site(2, "App/Worker.swift:9 (run())", at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .caught(2, at: ms(11)),
            .end(2, .returned, at: ms(12)),
            .spawn(3, "leaker", parent: 1, at: ms(13)),
        ]), configuration: config)
        #expect(sited.ruleIDs == ["leaked-task"])
    }

    @Test func aRuleSetToNilIsDisabled() throws {
        var config = RuleConfiguration()
        config.levels["swallowed-cancellation"] = .some(nil)
        #expect(!config.isEnabled(SwallowedCancellation()))
        #expect(config.isEnabled(LeakedTask()))
        let report = try TraceScript.analyze(swallow, configuration: config)
        #expect(report.ruleIDs == ["leaked-task"])
        #expect(report.findingCounts["swallowed-cancellation"] == nil)
    }

    @Test func aConfigurationSetAfterTheAnalyzerWasMadeIsHonoured() throws {
        var analyzer = TraceAnalyzer()
        analyzer.configuration = configuration(levels: ["swallowed-cancellation": off, "leaked-task": .note])
        let report = try analyzer.analyze(TraceReader(bytes: TraceScript.bytes(swallow)))
        #expect(report.ruleIDs == ["leaked-task"])
        #expect(report.findings.first?.level == .note)
    }

    @Test func levelsOrderFromNoteToError() {
        #expect(Level.note < .warning)
        #expect(Level.warning < .error)
        #expect([Level.warning, .error, .note].max() == .error)
    }

    @Test func everyRuleIsRegisteredOnceAndFoundByItsID() {
        let ids = Rules.all.map(\.id)
        #expect(ids == ["swallowed-cancellation", "cancellation-converted", "failed-after-cancel", "completed-after-cancel",
                        "slow-cancellation", "cleanup-failed", "slow-cleanup", "leaked-task"])
        for id in ids { #expect(Rules.named(id)?.id == id) }
        #expect(Rules.named("no-such-rule") == nil)
    }

    @Test func everyRuleHasItsTexts() {
        for rule in Rules.all {
            #expect(!rule.summary.isEmpty && !rule.explanation.isEmpty && !rule.help.isEmpty, "\(rule.id)")
            #expect(!rule.summary.contains("\n") && !rule.help.contains("\n"), "\(rule.id)")
        }
    }
}
