import Testing
import TraceAnalysis
import TraceFormat

/// "Cancelled, then returned normally" without a recorded catch is not reported when the return is the task's own
/// choice: its own subtree started the cancel, or it returns Void and cannot throw (`canceltrace run`'s mark).
/// Shapes from swift-async-algorithms and swift-service-lifecycle (Docs/Run.md).
@Suite struct OwnChoiceStopTests {
    private let voidNever = TaskLifecycle.returnsVoidCannotThrowMark

    @Test func aTaskThatCancelsItselfAndReturnsIsNotReported() throws {
        // merge's driver task: the upstream finished, so it calls `task.cancel()` on its own handle.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "Task", parent: 1, at: ms(1)),
            .cancel(2, by: 2, .explicit, at: ms(10)),
            .end(2, .returned, at: ms(11)),
        ]))
        #expect(report.findings.isEmpty)
    }

    @Test func aTaskCancelledByItsOwnChildIsNotReported() throws {
        // combineLatest: a base's child cancels the outer task, which passes it down to the child as `parent`.
        for steps: [Step] in [
            [.signal(2, .received, via: "ThrowingTaskGroup.next", at: ms(10.1))],  // returned-after-… shape
            [],                                                                  // completed-after-cancel shape
        ] {
            let report = try TraceScript.analyze(underMain([
                .spawn(2, "Task", parent: 1, at: ms(1)),
                .spawn(3, "addTask", parent: 2, how: .groupChild, at: ms(2)),
                .spawn(4, "addTask", parent: 3, how: .groupChild, at: ms(3)),
                .cancel(2, by: 4, .explicit, at: ms(10)),
                .cancel(3, by: 2, .parent, at: ms(10)),
                .cancel(4, by: 3, .parent, at: ms(10)),
            ] + steps + [
                .end(4, .returned, at: ms(10.5)),
                .end(3, .returned, at: ms(10.6)),
                .end(2, .returned, at: ms(11)),
            ]))
            // 2's cancel came from its grandchild 4, 3's from its child 4, and 4 cancelled itself through them.
            #expect(report.findings.isEmpty, "\(report.ruleIDs)")
        }
    }

    @Test func aCancelFromOutsideTheSubtreeIsStillReported() throws {
        // Positive: the sibling 3 cancels 2 (not its descendant), and the parent's cancel reaches 2's child 4.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "Task", parent: 1, at: ms(1)),
            .spawn(3, "Task", parent: 1, at: ms(1)),
            .spawn(4, "addTask", parent: 2, how: .groupChild, at: ms(2)),
            .cancel(2, by: 3, .explicit, at: ms(10)),
            .cancel(4, by: 2, .parent, at: ms(10)),
            .signal(4, .received, via: "Task.sleep", at: ms(10.2)),
            .end(4, .returned, at: ms(10.5)),
            .end(2, .returned, at: ms(11)),
        ]))
        #expect(report.findings(for: 2).map(\.rule) == ["completed-after-cancel"])
        #expect(report.findings(for: 4).map(\.rule) == ["returned-after-cancellation-error"])
    }

    @Test func aTimeoutOrShutdownIsNotTheTasksOwnChoiceWhoeverRecordedIt() throws {
        for reason: CancelReason in [.timeout, .shutdown, .siblingFailure] {
            let report = try TraceScript.analyze(underMain([
                .spawn(2, "Task", parent: 1, at: ms(1)),
                .cancel(2, by: 2, reason, at: ms(10)),
                .end(2, .returned, at: ms(11)),
            ]))
            #expect(report.ruleIDs == ["completed-after-cancel"], "\(reason)")
        }
    }

    @Test func aParentCancellingItsChildIsNotTheChildsOwnChoice() throws {
        // `group.cancelAll()` by the owner: the origin is the parent, outside the child's subtree.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "addTask", parent: 1, how: .groupChild, at: ms(1)),
            .cancel(2, by: 1, .explicit, at: ms(10)),
            .end(2, .returned, at: ms(11)),
        ]))
        #expect(report.ruleIDs == ["completed-after-cancel"])
    }

    @Test func aVoidTaskThatCannotThrowIsNotReportedForReturning() throws {
        // swift-service-lifecycle's watchdog: `Task { do { try await Task.sleep(…); fatalError() } catch {} }`.
        for steps: [Step] in [[.signal(2, .received, via: "Task.sleep", at: ms(10.1))], []] {
            let report = try TraceScript.analyze(underMain([
                .spawn(2, "Task", parent: 1, at: ms(1)),
                .mark(2, voidNever, at: ms(1)),
                .cancel(2, by: 1, .explicit, at: ms(10)),
            ] + steps + [.end(2, .returned, at: ms(11))]))
            #expect(report.findings.isEmpty, "\(report.ruleIDs)")
        }
    }

    @Test func aTaskThatReceivedTheErrorTwiceWentOnAndIsReported() throws {
        // `for … { try? await Task.sleep(…) }` in a `Task<Void, Never>`, or after cancelling itself: the second
        // delivery shows the first was swallowed and the loop went on.
        for (mark, canceller): ([Step], TaskID) in [([.mark(2, voidNever, at: ms(1))], 1), ([], 2)] {
            let report = try TraceScript.analyze(underMain([.spawn(2, "Task", parent: 1, at: ms(1))] + mark + [
                .cancel(2, by: canceller, .explicit, at: ms(10)),
                .signal(2, .received, via: "Task.sleep", at: ms(10.1)),
                .signal(2, .received, via: "Task.sleep", at: ms(10.2)),
                .end(2, .returned, at: ms(11)),
            ]))
            #expect(report.ruleIDs == ["returned-after-cancellation-error"])
        }
    }

    @Test func drainingCancelledChildrenIsNotGoingOn() throws {
        // merge's driver (`Task<Void, Never>`): `group.next()` hands it each cancelled child's error in turn.
        let report = try TraceScript.analyze(underMain([
            .spawn(2, "Task", parent: 1, at: ms(1)),
            .mark(2, voidNever, at: ms(1)),
            .cancel(2, by: 1, .explicit, at: ms(10)),
            .signal(2, .received, via: "ThrowingTaskGroup.next", at: ms(10.1)),
            .signal(2, .received, via: "ThrowingTaskGroup.next", at: ms(10.2)),
            .signal(2, .received, via: "Task.value", at: ms(10.3)),
            .end(2, .returned, at: ms(11)),
        ]))
        #expect(report.findings.isEmpty, "\(report.ruleIDs)")
    }

    @Test func aVoidTaskThatCannotThrowIsStillSlowOrLeaked() throws {
        // The mark excuses the return, not the time it took: `try? await Task.sleep` in a loop that goes on.
        let slow = try TraceScript.analyze(underMain([
            .spawn(2, "Task", parent: 1, at: ms(1)),
            .mark(2, voidNever, at: ms(1)),
            .cancel(2, by: 1, .explicit, at: ms(10)),
            .signal(2, .received, via: "Task.sleep", at: ms(10.1)),
            .end(2, .returned, at: ms(900)),
        ]))
        #expect(slow.ruleIDs == ["slow-cancellation"])
        let leaked = try TraceScript.analyze(underMain([
            .spawn(2, "Task", parent: 1, at: ms(1)),
            .mark(2, voidNever, at: ms(1)),
            .cancel(2, by: 1, .explicit, at: ms(10)),
            .signal(2, .received, via: "Task.sleep", at: ms(10.1)),
            .spawn(9, "other", parent: 1, at: ms(2000)),
            .end(9, .returned, at: ms(2001)),
        ]))
        #expect(leaked.findings(for: 2).map(\.rule) == ["leaked-task"])
    }

    @Test func aTaskWithAResultOrAnotherMarkIsStillReported() throws {
        // swift-service-lifecycle's graceful-shutdown timer: `try? await Task.sleep(…); return .timedOut` in a
        // throwing group — no mark, and the value it returns claims a timeout that did not happen.
        for mark: [Step] in [[], [.mark(2, "returns Void", at: ms(1))]] {
            let report = try TraceScript.analyze(underMain([
                .spawn(2, "addTask", parent: 1, how: .groupChild, at: ms(1)),
            ] + mark + [
                .cancel(2, by: 1, .parent, at: ms(10)),
                .signal(2, .received, via: "Task.sleep", at: ms(10.1)),
                .end(2, .returned, at: ms(11)),
            ]))
            #expect(report.ruleIDs == ["returned-after-cancellation-error"])
        }
    }

    @Test func theOriginOfACancelIsKeptInTheLifecycle() throws {
        let tracked = try TraceScript.track(underMain([
            .spawn(2, "Task", parent: 1, at: ms(1)),
            .spawn(3, "addTask", parent: 2, how: .groupChild, at: ms(2)),
            .cancel(2, by: 3, .explicit, at: ms(10)),
            .cancel(3, by: 2, .parent, at: ms(10)),
            .cancel(3, by: 1, .explicit, at: ms(12)),  // a second request: kept in the full lifecycle
            .end(3, .returned, at: ms(13)),
            .end(2, .returned, at: ms(14)),
        ]))
        let child = try #require(tracked.ended.first { $0.id == 3 })
        #expect(child.cancels.map(\.origin) == [3, 1])
        #expect(child.cancels.map(\.byOwnSubtree) == [true, false])
        let parent = try #require(tracked.ended.first { $0.id == 2 })
        #expect(parent.cancels.map(\.origin) == [3])
        #expect(parent.effectiveCancel?.byOwnSubtree == true)
    }
}
