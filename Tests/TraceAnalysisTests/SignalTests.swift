import Testing
import TraceAnalysis
import TraceFormat

/// Format 1.1 `signal` and `site` records: how a task's code met its cancellation decides between a deliberate
/// stop, a swallow and a conversion when no catch is recorded (`canceltrace run`).
@Suite struct SignalTests {
    private func cancelledPoller(_ steps: [Step], end outcome: Outcome = .returned, error: String? = nil,
                                 site: String? = nil) throws -> AnalysisReport {
        try TraceScript.analyze(underMain([.spawn(2, "poller", parent: 1, at: ms(1))]
            + (site.map { [.site(2, $0, at: ms(1))] } ?? [])
            + [.cancel(2, by: 1, .explicit, at: ms(200))]
            + steps + [.end(2, outcome, error: error, at: ms(250))]))
    }

    @Test func seeingTheFlagThenReturningIsADeliberateStop() throws {
        // `guard !Task.isCancelled else { return partial }`
        let report = try cancelledPoller([.signal(2, .flag, via: "Task.isCancelled", at: ms(210))])
        #expect(report.findings.isEmpty)
    }

    @Test func sayingStoppingThenReturningIsADeliberateStop() throws {
        let report = try cancelledPoller([.signal(2, .stopped, at: ms(210))])
        #expect(report.findings.isEmpty)
    }

    @Test func receivingTheErrorThenReturningIsASwallow() throws {
        // `try? await Task.sleep(for: …)` in a loop, recorded without annotations.
        let report = try cancelledPoller([.signal(2, .received, via: "Task.sleep", at: ms(210))])
        #expect(report.ruleIDs == ["swallowed-cancellation"])
        let finding = try #require(report.findings.first)
        #expect(finding.level == .error)
        #expect(finding.message == #"task "poller" (#2) received CancellationError from Task.sleep at 0.210 s and returned normally at 0.250 s"#)
    }

    @Test func receivingThenCheckingTheFlagIsADeliberateStop() throws {
        // `do { try await Task.sleep(…) } catch {}; if Task.isCancelled { return }`
        let report = try cancelledPoller([
            .signal(2, .received, via: "Task.sleep", at: ms(210)),
            .signal(2, .flag, via: "Task.isCancelled", at: ms(211)),
        ])
        #expect(report.findings.isEmpty)
    }

    @Test func receivingThenFailingOtherwiseIsAConversion() throws {
        let report = try cancelledPoller([.signal(2, .received, via: "Task.sleep", at: ms(210))],
                                         end: .failed, error: "NetworkError")
        #expect(report.ruleIDs == ["cancellation-converted"])
        #expect(report.findings.first?.message == #"task "poller" (#2) received CancellationError from Task.sleep at 0.210 s and ended with NetworkError at 0.250 s"#)
    }

    @Test func receivingWithoutAnyCancelIsNotASwallow() throws {
        // A canceller awaiting the child it cancelled: the recorder sends no `received` then, but a damaged or
        // foreign trace might; without a cancel request of the task's own there is nothing to swallow.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "canceller", parent: 1, at: ms(1)),
            .signal(2, .received, at: ms(10)),
            .end(2, .returned, at: ms(20)),
        ]))
        #expect(report.findings.isEmpty)
    }

    @Test func withoutSignalsACancelledReturnIsStillCompletedAfterCancel() throws {
        let report = try cancelledPoller([])
        #expect(report.ruleIDs == ["completed-after-cancel"])
    }

    @Test func findingsSayWhereTheTaskWasCreated() throws {
        let report = try cancelledPoller([.signal(2, .received, via: "Task.sleep", at: ms(210))],
                                         site: "App/Poller.swift:42 (Poller.start())")
        let finding = try #require(report.findings.first)
        #expect(finding.site == "App/Poller.swift:42 (Poller.start())")
        #expect(finding.notes.contains("created at App/Poller.swift:42 (Poller.start())"))
    }

    @Test func aTaskWithManySignalsKeepsTheLastOne() throws {
        // More signals than a list keeps: the last one still decides.
        var steps: [Step] = []
        for i in 0..<(TaskLifecycle.maxEntriesPerList + 10) { steps.append(.signal(2, .received, at: ms(201) + UInt64(i))) }
        steps.append(.signal(2, .flag, via: "Task.isCancelled", at: ms(240)))
        #expect(try cancelledPoller(steps).findings.isEmpty)
    }
}
