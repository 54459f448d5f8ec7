import Testing
import TraceAnalysis
import TraceFormat

/// The product's fixed scenarios (issue #2, from the asyncio CancelledError seed page), as the recorder would
/// trace them. `check` must flag exactly the buggy ones, each under the right rule.
enum Scenario: String, CaseIterable, Sendable {
    case cancelCleanupRethrow = "cancel-cleanup-rethrow"
    case swallowCatchAll = "swallow-catch-all"
    case swallowTrySleep = "swallow-try-sleep"
    case timeout
    case groupSiblingFailure = "group-sibling-failure"
    case shield
    case convertError = "convert-error"
    case cancellerAwaits = "canceller-awaits"

    var expectedRules: [String] {
        switch self {
        case .swallowCatchAll: ["swallowed-cancellation"]
        case .swallowTrySleep: ["completed-after-cancel"]
        case .convertError: ["cancellation-converted"]
        case .cancelCleanupRethrow, .timeout, .groupSiblingFailure, .shield, .cancellerAwaits: []
        }
    }

    var steps: [Step] {
        switch self {
        case .cancelCleanupRethrow:
            // main cancels long_task; it catches, cleans up and rethrows; main awaits it and sees it cancelled.
            [
                .spawn(1, "main", at: 0),
                .spawn(2, "long_task", parent: 1, at: ms(1)),
                .cancel(2, by: 1, .explicit, at: ms(1001)),
                .caught(2, at: ms(1002)),
                .cleanupBegin(2, at: ms(1002)),
                .cleanupEnd(2, at: ms(1010)),
                .rethrow(2, at: ms(1010)),
                .end(2, .cancelled, at: ms(1011)),
                .caught(1, at: ms(1011)),
                .end(1, .returned, at: ms(1012)),
            ]
        case .swallowCatchAll:
            // `catch { cleanup(); return }` in long_task.
            [
                .spawn(1, "main", at: 0),
                .spawn(2, "long_task", parent: 1, at: ms(1)),
                .cancel(2, by: 1, .explicit, at: ms(1001)),
                .caught(2, at: ms(1002)),
                .cleanupBegin(2, at: ms(1002)),
                .cleanupEnd(2, at: ms(1003)),
                .end(2, .returned, at: ms(1004)),
                .end(1, .returned, at: ms(1005)),
            ]
        case .swallowTrySleep:
            // `for _ in 0..<5 { try? await Task.sleep(for: .milliseconds(10)) }`: each sleep throws at once after
            // the cancel, `try?` eats it, the loop runs out and the task returns.
            [
                .spawn(1, "main", at: 0),
                .spawn(2, "poller", parent: 1, at: ms(1)),
                .mark(2, "iteration", at: ms(11)),
                .cancel(2, by: 1, .explicit, at: ms(15)),
                .mark(2, "iteration", at: ms(15)),
                .end(2, .returned, at: ms(16)),
                .end(1, .returned, at: ms(17)),
            ]
        case .timeout:
            // wait_for's analogue: the timeout helper cancels its operation with reason timeout; the operation
            // ends cancelled and main gets a TimeoutError, which it handles.
            [
                .spawn(1, "main", at: 0),
                .spawn(2, "slow_operation", parent: 1, at: ms(1)),
                .cancel(2, by: 1, .timeout, at: ms(500)),
                .caught(2, at: ms(500)),
                .rethrow(2, at: ms(500)),
                .end(2, .cancelled, at: ms(501)),
                .end(1, .returned, at: ms(502)),
            ]
        case .groupSiblingFailure:
            // A task group with three children: b throws, the group cancels a and c, main sees b's error.
            [
                .spawn(1, "main", at: 0),
                .spawn(2, "a", parent: 1, how: .groupChild, at: ms(1)),
                .spawn(3, "b", parent: 1, how: .groupChild, at: ms(1)),
                .spawn(4, "c", parent: 1, how: .groupChild, at: ms(1)),
                .end(3, .failed, error: "ValueError", at: ms(100)),
                .cancel(2, by: 1, .siblingFailure, at: ms(100)),
                .cancel(4, by: 1, .siblingFailure, at: ms(100)),
                .caught(2, at: ms(101)),
                .cleanupBegin(2, at: ms(101)),
                .end(4, .cancelled, at: ms(101)),
                .cleanupEnd(2, at: ms(102)),
                .rethrow(2, at: ms(102)),
                .end(2, .cancelled, at: ms(102)),
                .end(1, .failed, error: "ValueError", at: ms(103)),
            ]
        case .shield:
            // main awaits `shield(critical_operation())` in a task it cancels: the waiting task is cancelled,
            // the shielded operation is not and finishes its work.
            [
                .spawn(1, "main", at: 0),
                .spawn(2, "waiter", parent: 1, at: ms(1)),
                .spawn(3, "critical_operation", parent: 2, how: .unstructured, at: ms(1)),
                .cancel(2, by: 1, .explicit, at: ms(50)),
                .end(2, .cancelled, at: ms(50)),
                .end(3, .returned, at: ms(400)),
                .end(1, .returned, at: ms(401)),
            ]
        case .convertError:
            // `catch is CancellationError { throw LoadError.interrupted }`.
            [
                .spawn(1, "main", at: 0),
                .spawn(2, "loader", parent: 1, at: ms(1)),
                .cancel(2, by: 1, .explicit, at: ms(200)),
                .caught(2, at: ms(200)),
                .end(2, .failed, error: "LoadError", at: ms(201)),
                .end(1, .returned, at: ms(202)),
            ]
        case .cancellerAwaits:
            // `child.cancel(); do { try await child.value } catch { }` in main.
            [
                .spawn(1, "main", at: 0),
                .spawn(2, "child", parent: 1, at: ms(1)),
                .cancel(2, by: 1, .explicit, at: ms(100)),
                .end(2, .cancelled, at: ms(101)),
                .caught(1, at: ms(101)),
                .end(1, .returned, at: ms(102)),
            ]
        }
    }
}

@Suite struct ScenarioTests {
    @Test(arguments: Scenario.allCases)
    func eachScenarioIsFlaggedUnderExactlyItsRules(scenario: Scenario) throws {
        let report = try TraceScript.analyze(scenario.steps)
        #expect(report.ruleIDs == scenario.expectedRules)
        #expect(!report.cutShort)
        #expect(report.notices.isEmpty)
        #expect(report.tasksWithoutSpawn == 0)
    }

    @Test(arguments: Scenario.allCases)
    func eachScenarioReadsTheSameFromManySmallChunks(scenario: Scenario) throws {
        let reader = try TraceReader(bytes: TraceScript.bytes(scenario.steps, chunkSize: 8))
        let report = try TraceAnalyzer().analyze(reader)
        #expect(report.ruleIDs == scenario.expectedRules)
    }

    @Test func onlySwallowCatchAllIsAnError() throws {
        for scenario in Scenario.allCases {
            let report = try TraceScript.analyze(scenario.steps)
            #expect((report.highestLevel == .error) == (scenario == .swallowCatchAll), "\(scenario.rawValue)")
        }
    }
}
