import Testing
import TraceAnalysis
import TraceFormat

@Suite struct FindingGroupTests {
    /// Workers 2…6 made at one place, cancelled together, each slow by a different amount; worker 7 elsewhere.
    private func workers() throws -> AnalysisReport {
        var steps: [Step] = []
        for id: TaskID in 2...7 {
            steps.append(.spawn(id, "worker", parent: 1, at: ms(1)))
            steps.append(.site(id, id == 7 ? "App/Other.swift:9 (other())" : "App/Pool.swift:12 (Pool.run())", at: ms(1)))
        }
        for id: TaskID in 2...7 { steps.append(.cancel(id, by: 1, at: ms(10))) }
        let latencies: [TaskID: Double] = [2: 200, 3: 900, 4: 300, 5: 900, 6: 150, 7: 500]
        for (id, latency) in latencies.sorted(by: { ($0.value, $0.key) < ($1.value, $1.key) }) {
            steps.append(.end(id, .cancelled, at: ms(10 + latency)))
        }
        return try TraceScript.analyze(underMain(steps))
    }

    @Test func findingsOfOneRuleFromOnePlaceFormOneGroupShowingTheWorst() throws {
        let report = try workers()
        #expect(report.findings.count == 6)
        let groups = FindingGroup.group(report.findings)
        #expect(groups.map(\.count) == [5, 1])
        let pool = try #require(groups.first)
        #expect(pool.worst.site == "App/Pool.swift:12 (Pool.run())")
        #expect(pool.worst.magnitude == ms(900))
        #expect(pool.worst.task == 3)  // 3 and 5 tie at 900 ms: the earlier finding stays
        #expect(pool.firstTime == ms(160))
        #expect(pool.lastTime == ms(910))
        #expect(groups[1].worst.task == 7)
    }

    @Test func differentRulesNeverShareAGroup() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "poller", parent: 1, at: ms(1)),
            .spawn(3, "poller", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .cancel(3, by: 1, at: ms(10)),
            .caught(3, at: ms(11)),
            .end(2, .returned, at: ms(12)),
            .end(3, .returned, at: ms(12)),
        ]))
        #expect(FindingGroup.group(report.findings).map(\.count) == [1, 1])
    }

    @Test func tasksWithoutASiteGroupByTheirSharedName() throws {
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "poller", parent: 1, at: ms(1)),
            .spawn(3, "poller", parent: 1, at: ms(1)),
            .spawn(4, "Task-4", parent: 1, at: ms(1)),
            .cancel(2, by: 1, at: ms(10)),
            .cancel(3, by: 1, at: ms(10)),
            .cancel(4, by: 1, at: ms(10)),
            .end(2, .returned, at: ms(12)),
            .end(3, .returned, at: ms(12)),
            .end(4, .returned, at: ms(12)),
        ]))
        #expect(FindingGroup.group(report.findings).map(\.count) == [2, 1])
    }
}
