import Testing
import TraceAnalysis
import TraceFormat
import TraceTestSupport

/// The analyzer's fast path (tasks kept as inline fields, rules asked only when they may report) must find exactly
/// what calling every rule on every full lifecycle finds.
@Suite struct CompactAnalysisTests {
    /// A rule that forwards to another but cannot prefilter, so the analyzer calls it for every task.
    struct Unfiltered: Rule {
        let rule: any Rule
        var id: String { rule.id }
        var defaultLevel: Level { rule.defaultLevel }
        var summary: String { rule.summary }
        var explanation: String { rule.explanation }
        var help: String { rule.help }
        var defaultThreshold: UInt64? { rule.defaultThreshold }
        func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] { rule.check(task, in: context) }
    }

    /// Random events over a handful of task ids: repeated and missing spawns, several cancels, catches, cleanups,
    /// rethrows, marks (including the "returns Void" one), sites and signals of every kind per task, ends with
    /// every outcome, tasks left running.
    static func randomSteps(seed: UInt64, count: Int) -> [Step] {
        var random = SplitMix64(seed: seed)
        var steps: [Step] = []
        var time: UInt64 = 0
        let names = ["a", "b", TaskLifecycle.returnsVoidCannotThrowMark]
        let errors = ["CancellationError", "TimeoutError", "IOError", ""]
        let vias = ["", "Task.sleep", "Task.value"]
        for _ in 0..<count {
            time += random.below(3) == 0 ? 0 : random.below(150_000_000)
            let task = 1 + random.below(8)
            let other = random.below(9)
            switch random.below(15) {
            case 12: steps.append(.site(task, "file.swift:\(other)", at: time))
            case 13, 14: steps.append(.signal(task, CancellationSignal(rawValue: UInt8(random.below(3)))!,
                                              via: vias[Int(random.below(3))], at: time))
            case 0, 1: steps.append(.spawn(task, names[Int(random.below(3))], parent: other,
                                           how: SpawnKind(rawValue: UInt8(random.below(5))), at: time))
            case 2: steps.append(.cancel(task, by: other, CancelReason(rawValue: UInt8(random.below(6)))!,
                                         message: random.below(2) == 0 ? "" : "stop", at: time))
            case 3: steps.append(.uncancel(task, at: time))
            case 4: steps.append(.caught(task, errors[Int(random.below(4))], at: time))
            case 5: steps.append(.cleanupBegin(task, at: time))
            case 6: steps.append(.cleanupEnd(task, random.below(2) == 0 ? .ok : .threw, error: errors[Int(random.below(4))], at: time))
            case 7: steps.append(.rethrow(task, at: time))
            case 8: steps.append(.mark(task, names[Int(random.below(3))], at: time))
            default: steps.append(.end(task, Outcome(rawValue: UInt8(random.below(3)))!, error: errors[Int(random.below(4))], at: time))
            }
        }
        return steps
    }

    @Test(arguments: 1...40)
    func theFastPathFindsWhatEveryRuleOnEveryTaskFinds(seed: Int) throws {
        let steps = Self.randomSteps(seed: UInt64(seed), count: 400)
        let config = configuration(thresholds: ["slow-cancellation": ms(50), "slow-cleanup": ms(20)])
        let fast = try TraceScript.analyze(steps, closed: seed % 2 == 0, configuration: config)
        let full = try TraceScript.analyze(steps, closed: seed % 2 == 0, configuration: config,
                                           rules: Rules.all.map { Unfiltered(rule: $0) })
        #expect(fast.findings == full.findings)
        #expect(fast.findingCounts == full.findingCounts)
        #expect(fast.stats.tasks == full.stats.tasks)
        #expect(fast.stats.outcomes == full.stats.outcomes)
        #expect(fast.stats.spawnKinds == full.stats.spawnKinds)
        #expect(fast.stats.cancelsByReason == full.stats.cancelsByReason)
        #expect(fast.stats.withdrawnCancels == full.stats.withdrawnCancels)
        #expect(fast.stats.tasksThatCaught == full.stats.tasksThatCaught)
        #expect(fast.stats.tasksThatRethrew == full.stats.tasksThatRethrew)
        #expect(fast.stats.cleanups == full.stats.cleanups)
        #expect(fast.stats.unended == full.stats.unended)
        #expect(fast.stats.cancelLatencyCount == full.stats.cancelLatencyCount)
        #expect(fast.stats.cancelLatencyMax == full.stats.cancelLatencyMax)
    }

    @Test(arguments: [0, 1, 999, 1_000, 1_001_000, 12_031_400, 12_500_000, 1_002_000_000, 987_654_321_987, UInt64.max])
    func secondsAreFormattedAsBefore(nanoseconds: UInt64) {
        let micros = nanoseconds / 1_000
        var fraction = String(micros % 1_000_000)
        fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
        while fraction.count > 3 && fraction.hasSuffix("0") { fraction.removeLast() }
        #expect(TraceTime.seconds(nanoseconds) == "\(micros / 1_000_000).\(fraction) s")
    }
}
