import Testing
import TraceAnalysis
import TraceFormat

@Suite struct TraceStatsTests {
    /// `TraceStats` keeps its per-value counters in eight fixed slots, indexed by raw value.
    @Test func everyCountedEnumFitsTheEightCounters() {
        #expect(Outcome.allCases.allSatisfy { $0.rawValue < 8 })
        #expect(SpawnKind.allCases.allSatisfy { $0.rawValue < 8 })
        #expect(CancelReason.allCases.allSatisfy { $0.rawValue < 8 })
    }

    /// Each value of each counted enum lands in its own counter.
    @Test func everyValueIsCountedApart() throws {
        var steps: [Step] = []
        var id: TaskID = 1
        var time: UInt64 = 0
        var expectedKinds: [SpawnKind: Int] = [:], expectedOutcomes: [Outcome: Int] = [:]
        var expectedReasons: [CancelReason: Int] = [:]
        for (k, how) in SpawnKind.allCases.enumerated() {
            for (o, outcome) in Outcome.allCases.enumerated() {
                // k + o + 1 tasks of this kind and outcome, each cancelled for a reason of its own.
                for n in 0..<(k + o + 1) {
                    let reason = CancelReason.allCases[(k + o + n) % CancelReason.allCases.count]
                    time += 1
                    steps += [.spawn(id, "t", how: how, at: time), .cancel(id, by: 0, reason, at: time),
                              .end(id, outcome, at: time + 1)]
                    expectedKinds[how, default: 0] += 1
                    expectedOutcomes[outcome, default: 0] += 1
                    expectedReasons[reason, default: 0] += 1
                    id += 1
                }
            }
        }
        steps.sort { $0.time < $1.time }
        let stats = try TraceScript.analyze(steps).stats
        #expect(stats.spawnKinds == expectedKinds)
        #expect(stats.outcomes == expectedOutcomes)
        #expect(stats.cancelsByReason == expectedReasons)
    }

    @Test func outcomesCancelsAndCatchesAreCounted() throws {
        let report = try TraceScript.analyze([
            .spawn(1, "main", at: 0),
            .spawn(2, "ok", parent: 1, at: ms(1)),
            .spawn(3, "cancelled", parent: 1, how: .groupChild, at: ms(1)),
            .spawn(4, "failed", parent: 1, how: .detached, at: ms(1)),
            .spawn(5, "timed-out", parent: 1, at: ms(1)),
            .spawn(6, "never-ends", parent: 1, how: .unstructured, at: ms(1)),
            .end(2, .returned, at: ms(2)),
            .cancel(3, by: 1, .siblingFailure, at: ms(3)),
            .caught(3, at: ms(3)),
            .cleanupBegin(3, at: ms(3)),
            .cleanupEnd(3, at: ms(4)),
            .rethrow(3, at: ms(4)),
            .end(3, .cancelled, at: ms(5)),
            .end(4, .failed, error: "IOError", at: ms(6)),
            .cancel(5, by: 5, .timeout, at: ms(7)),
            .uncancel(5, at: ms(7)),
            .end(5, .failed, error: "TimeoutError", at: ms(8)),
            .cancel(6, by: 1, .shutdown, at: ms(9)),
            .cancel(6, by: 1, .explicit, at: ms(9)),
            .end(1, .returned, at: ms(10)),
        ])
        let stats = report.stats
        #expect(stats.tasks == 6)
        #expect(stats.outcomes == [.returned: 2, .cancelled: 1, .failed: 2])
        #expect(stats.unended == 1)
        #expect(stats.spawnKinds == [.root: 1, .child: 2, .groupChild: 1, .detached: 1, .unstructured: 1])
        #expect(stats.cancelsByReason == [.siblingFailure: 1, .timeout: 1, .shutdown: 1, .explicit: 1])
        #expect(stats.withdrawnCancels == 1)
        #expect(stats.tasksThatCaught == 1)
        #expect(stats.tasksThatRethrew == 1)
        #expect(stats.cleanups == 1)
        #expect(stats.peakLiveTasks == 6)
        #expect(stats.events == 20 + 1 + 1)  // the steps, the info record, close
        // Only task 3 ended after a cancel that stood.
        #expect(stats.cancelLatencyCount == 1)
        #expect(stats.cancelLatencyMax.map { approximately($0, ms(2)) } == true)
    }

    @Test func latencyPercentilesMatchAKnownDistributionWithinHistogramPrecision() throws {
        // Task i (1…1000) ends i ms after its cancel: p50 = 500 ms, p90 = 900 ms, p99 = 990 ms, max = 1000 ms.
        var steps: [Step] = []
        var t: UInt64 = 0
        for i in 1...1000 {
            let id = TaskID(i)
            steps += [.spawn(id, "t\(i)", at: t), .cancel(id, by: 0, at: t), .end(id, .cancelled, at: t + ms(Double(i)))]
            t += ms(Double(i))
        }
        let report = try TraceScript.analyze(steps, configuration: configuration(levels: ["slow-cancellation": off]))
        let stats = report.stats
        #expect(stats.cancelLatencyCount == 1000)
        #expect(stats.cancelLatency(atPercentile: 50).map { approximately($0, ms(500)) } == true)
        #expect(stats.cancelLatency(atPercentile: 90).map { approximately($0, ms(900)) } == true)
        #expect(stats.cancelLatency(atPercentile: 99).map { approximately($0, ms(990)) } == true)
        #expect(stats.cancelLatencyMax.map { approximately($0, ms(1000)) } == true)
        #expect(report.findings.isEmpty)
    }

    @Test func aTraceWithoutCancelledTasksHasNoLatency() throws {
        let stats = try TraceScript.analyze(underMain([])).stats
        #expect(stats.cancelLatencyCount == 0)
        #expect(stats.cancelLatency(atPercentile: 50) == nil)
        #expect(stats.cancelLatencyMax == nil)
    }
}

/// Whether `value` is within the histogram's precision (three significant digits) of `expected`.
func approximately(_ value: UInt64, _ expected: UInt64) -> Bool {
    let difference = value > expected ? value - expected : expected - value
    return difference <= expected / 1000 + 1
}
