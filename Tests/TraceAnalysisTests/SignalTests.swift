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
        #expect(report.ruleIDs == ["returned-after-cancellation-error"])
        let finding = try #require(report.findings.first)
        #expect(finding.level == .warning)  // the catch is not in the trace: a watchdog returns this way on purpose
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

    @Test func findingsSayWhichTestTheTaskWasCreatedIn() throws {
        // The Python pytest plugin marks each task with the test it was created in.
        let report = try cancelledPoller([.mark(2, "test tests/test_poll.py::test_stop", at: ms(201))])
        let finding = try #require(report.findings.first)
        #expect(finding.notes.last == "created in test tests/test_poll.py::test_stop")
    }

    @Test func aTaskWithManySignalsKeepsTheLastOne() throws {
        // More signals than a list keeps: the last one still decides.
        var steps: [Step] = []
        for i in 0..<(TaskLifecycle.maxEntriesPerList + 10) { steps.append(.signal(2, .received, at: ms(201) + UInt64(i))) }
        steps.append(.signal(2, .flag, via: "Task.isCancelled", at: ms(240)))
        #expect(try cancelledPoller(steps).findings.isEmpty)
    }
}

@Suite struct TraceLanguageTests {
    @Test func aPythonTraceGetsPythonHelp() throws {
        var builder = TraceBuilder(sink: InMemoryTrace())
        try builder.info([(TraceInfo.Key.runtime, "python")])
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        try builder.append(.spawn(time: 1, task: 2, parent: 1, name: builder.string("worker"), how: .unstructured))
        try builder.append(.cancel(time: 2, task: 2, by: 1, reason: .explicit))
        try builder.append(.caught(time: 3, task: 2, error: builder.string("CancelledError")))
        try builder.append(.end(time: 4, task: 2, outcome: .returned))
        try builder.append(.end(time: 5, task: 1, outcome: .returned))
        try builder.close(time: 6)
        let report = try TraceAnalyzer().analyze(TraceReader(bytes: builder.sink.bytes))
        let finding = try #require(report.findings.first)
        #expect(finding.rule == "swallowed-cancellation")
        #expect(finding.help == SwallowedCancellation().pythonHelp)
        #expect(finding.help.contains("bare `raise`") && !finding.help.contains("throw error"))
    }

    @Test func aSwiftTraceKeepsSwiftHelp() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "worker", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(2)),
            .caught(2, at: ms(3)),
            .end(2, .returned, at: ms(4)),
        ]))
        #expect(report.findings.first?.help == SwallowedCancellation().help)
    }
}
