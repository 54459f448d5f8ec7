#if os(Linux) && arch(x86_64)
import Foundation
import Testing
import TraceFormat

/// `canceltrace run` on unmodified programs: Tests/RunScenarios/main.swift (the eight sample scenarios in plain
/// Swift), compiled here with the toolchain's swiftc at -O and -Onone, recorded by the preload library.
@Suite(.serialized)
struct RunCommandTests {
    /// What the trace must say about one task: how it was spawned, whether it was cancelled, how it ended.
    struct TaskShape: Hashable, CustomStringConvertible {
        let how: SpawnKind
        let cancelled: Bool
        let outcome: Outcome?
        let error: String
        var description: String { "\(how.label) \(cancelled ? "cancelled" : "-") \(outcome?.label ?? "no end") \(error)" }
    }

    static func shape(_ how: SpawnKind, cancelled: Bool = false, _ outcome: Outcome, _ error: String = "") -> TaskShape {
        TaskShape(how: how, cancelled: cancelled, outcome: outcome, error: error)
    }

    /// Every task of each scenario as the program creates, cancels and ends it (the root: the async main).
    static let expected: [String: [TaskShape]] = [
        "cancel-cleanup-rethrow": [shape(.unstructured, cancelled: true, .cancelled, "CancellationError"), shape(.unstructured, .returned)],
        "swallow-catch-all": [shape(.unstructured, cancelled: true, .returned)],
        "swallow-try-sleep": [shape(.unstructured, cancelled: true, .returned)],
        "timeout": [shape(.groupChild, cancelled: true, .cancelled, "CancellationError"), shape(.groupChild, .failed, "TimeoutError")],
        "group-sibling-failure": [shape(.groupChild, cancelled: true, .cancelled, "CancellationError"),
                                  shape(.groupChild, cancelled: true, .cancelled, "CancellationError"),
                                  shape(.groupChild, .failed, "SensorOffline")],
        "shield": [shape(.unstructured, cancelled: true, .returned), shape(.unstructured, .returned)],
        "convert-error": [shape(.unstructured, cancelled: true, .failed, "FetchFailed")],
        "canceller-awaits": [shape(.unstructured, cancelled: true, .cancelled, "CancellationError")],
    ]

    static let scenarios = expected.keys.sorted()

    /// The rules each scenario triggers under `run` (Docs/Run.md explains each difference from the API trace).
    static let expectedRules: [String: [String]] = [
        // swallow-catch-all's task is a `Task<Void, Never>` that stops at its first CancellationError: a stop,
        // not a swallow, under `run` (the API trace's recorded catch still reports it).
        "swallow-try-sleep": ["returned-after-cancellation-error"],
        "convert-error": ["cancellation-converted"],
        "shield": ["completed-after-cancel"],
    ]

    @Test(arguments: ["-O", "-Onone"], scenarios)
    func scenarioTraceShowsEachTaskCancelAndOutcome(optimization: String, scenario: String) throws {
        let binary = try ScenarioBinaries.path(optimization)
        let (result, trace) = try RunOutput.record(binary, [scenario])
        #expect(result.status == 0 || result.status == 1, "\(result.stderr)")
        let spawns = trace.events.filter { $0.kind == .spawn }
        let root = try #require(spawns.first { $0.spawnKind == .root }, "no root task among \(RunTrace.brief(trace.events))")
        let cancelled = Set(trace.events.filter { $0.kind == .cancel }.map(\.task))
        let ends = Dictionary(trace.events.filter { $0.kind == .end }.map { ($0.task, $0) }, uniquingKeysWith: { a, _ in a })
        let shapes = spawns.filter { $0.task != root.task }.map { spawn in
            let end = ends[spawn.task]
            return TaskShape(how: spawn.spawnKind, cancelled: cancelled.contains(spawn.task), outcome: end?.outcome,
                             error: end.map { trace.strings[$0.errorType] } ?? "")
        }
        #expect(shapes.sorted { $0.description < $1.description } == Self.expected[scenario]!.sorted { $0.description < $1.description })
        #expect(ends[root.task]?.outcome == .returned)
        // Every cancel is main's doing: explicit, or through a group main owns.
        for cancel in trace.events where cancel.kind == .cancel {
            #expect(cancel.canceller == root.task, "\(cancel)")
        }
        #expect(trace.sawClose)
        #expect(trace.info["preload-mode"] == "full")
        // The findings `run` prints, each with the spawn site symbolized to the scenario's source line.
        let findings = result.stdout.split(separator: "\n").filter { $0.hasPrefix("error[") || $0.hasPrefix("warning[") || $0.hasPrefix("note[") }
        let rules = findings.map { String($0[$0.index(after: $0.firstIndex(of: "[")!)..<$0.firstIndex(of: "]")!]) }
        #expect(rules == Self.expectedRules[scenario, default: []], "\(result.stdout)")
        if !rules.isEmpty { #expect(result.stdout.contains("created at Tests/RunScenarios/main.swift:") || result.stdout.contains("RunScenarios/main.swift:")) }
    }

    @Test(arguments: ["-O", "-Onone"])
    func cancelledTaskThatMetItsCancellationRecordsTheDelivery(optimization: String) throws {
        let binary = try ScenarioBinaries.path(optimization)
        let (_, trace) = try RunOutput.record(binary, ["swallow-catch-all"])
        let task = try #require(trace.events.first { $0.kind == .cancel }?.task)
        #expect(trace.events.contains {
            $0.kind == .signal && $0.task == task && $0.signalKind == .received && trace.strings[$0.via].hasSuffix("sleep")
        })
        // Every task has a site, right after its spawn.
        for (index, spawn) in trace.events.enumerated() where spawn.kind == .spawn {
            let next = trace.events[index + 1]
            #expect(next.kind == .site && next.task == spawn.task && !trace.strings[next.location].isEmpty)
        }
    }

    @Test(arguments: ["-O", "-Onone"])
    func oneWrapperReachedFromTwoCallSitesRecordsTwoSites(optimization: String) throws {
        // `Task {}` is emitted once into the binary: its frame is the innermost return address of every spawn,
        // so a site cached by that frame alone gave every task the first caller's site.
        let binary = try ScenarioBinaries.path(optimization)
        let (result, trace) = try RunOutput.record(binary, ["two-spawners"])
        #expect(result.stdout.contains("sum: 9"))
        let root = try #require(trace.events.first { $0.kind == .spawn && $0.spawnKind == .root }?.task)
        let children = Set(trace.events.filter { $0.kind == .spawn && $0.task != root }.map(\.task))
        #expect(children.count == 6)
        let sites = trace.events.filter { $0.kind == .site && children.contains($0.task) }.map { trace.strings[$0.location] }
        #expect(sites.count == 6)
        #expect(Set(sites).count == 2, "\(sites)")
    }

    /// The findings `run` printed, as rule ids.
    static func printedRules(_ stdout: String) -> [String] {
        stdout.split(separator: "\n").filter { $0.hasPrefix("error[") || $0.hasPrefix("warning[") || $0.hasPrefix("note[") }
            .map { String($0[$0.index(after: $0.firstIndex(of: "[")!)..<$0.firstIndex(of: "]")!]) }
    }

    @Test(arguments: ["-O", "-Onone"])
    func aTaskThatCancelsItselfHasNoFinding(optimization: String) throws {
        let (result, trace) = try RunOutput.record(try ScenarioBinaries.path(optimization), ["self-cancel"])
        #expect(result.stdout.hasPrefix("self: success()"))
        let root = try #require(trace.events.first { $0.kind == .spawn && $0.spawnKind == .root }?.task)
        let cancel = try #require(trace.events.first { $0.kind == .cancel })
        #expect(cancel.task != root && cancel.canceller == cancel.task && cancel.cancelReason == .explicit)
        // It met the error once (`try? await Task.sleep`): without the own-subtree rule this was a warning.
        #expect(trace.events.contains { $0.kind == .signal && $0.task == cancel.task && $0.signalKind == .received })
        #expect(Self.printedRules(result.stdout).isEmpty, "\(result.stdout)")
    }

    @Test(arguments: ["-O", "-Onone"])
    func voidTasksThatCannotThrowAreMarkedAndNotReportedForStopping(optimization: String) throws {
        let binary = try ScenarioBinaries.path(optimization)
        let (result, trace) = try RunOutput.record(binary, ["void-watchdogs"])
        #expect(result.stdout.hasPrefix("watchdog: success()"))
        let root = try #require(trace.events.first { $0.kind == .spawn && $0.spawnKind == .root }?.task)
        let children = trace.events.filter { $0.kind == .spawn && $0.task != root }
        #expect(Set(children.map(\.spawnKind)) == [.unstructured, .groupChild])
        let marked = Set(trace.events.filter { $0.kind == .mark && trace.strings[$0.label] == "returns Void, cannot throw" }.map(\.task))
        #expect(marked.subtracting([root]) == Set(children.map(\.task)))
        #expect(Self.printedRules(result.stdout).isEmpty, "\(result.stdout)")
        // A throwing Void task and a task with a value get no mark.
        for scenario in ["convert-error", "unsafe-continuation", "cancel-early-and-late"] {
            let (_, other) = try RunOutput.record(binary, [scenario])
            let main = other.events.first { $0.kind == .spawn && $0.spawnKind == .root }?.task
            #expect(!other.events.contains { $0.kind == .mark && $0.task != main }, "\(scenario)")
        }
    }

    @Test(arguments: ["-O", "-Onone"])
    func aStreamEndingOnCancellationIsAFlag(optimization: String) throws {
        let (result, trace) = try RunOutput.record(try ScenarioBinaries.path(optimization), ["stream-ends"])
        #expect(result.stdout.hasPrefix("consumer: success()"))
        let task = try #require(trace.events.first { $0.kind == .cancel }?.task)
        #expect(trace.events.contains {
            $0.kind == .signal && $0.task == task && $0.signalKind == .flag && trace.strings[$0.via] == "AsyncStream.next"
        })
        #expect(Self.printedRules(result.stdout).isEmpty, "\(result.stdout)")
    }

    /// `stream.first { … }` and `throwingStream.contains { … }` call the iterators through their conformances'
    /// witnesses inside the runtime (at -O too: the algorithms are not specialized into the program); the hooked
    /// witnesses see the stream end on the cancel. The old library reported both tasks as completed-after-cancel.
    @Test(arguments: ["-O", "-Onone"])
    func aStreamEndingOnCancellationInsideAGenericAlgorithmIsAFlag(optimization: String) throws {
        let (result, trace) = try RunOutput.record(try ScenarioBinaries.path(optimization), ["stream-first"])
        #expect(result.stdout.hasPrefix("waiter: cancellation caught throwing: success(\"stopped\")"), "\(result.stdout)")
        let cancelled = Set(trace.events.filter { $0.kind == .cancel }.map(\.task))
        #expect(cancelled.count == 2)
        for (task, via) in zip(cancelled.sorted(), ["AsyncStream.next", "AsyncThrowingStream.next"]) {
            #expect(trace.events.contains {
                $0.kind == .signal && $0.task == task && $0.signalKind == .flag && trace.strings[$0.via] == via
            }, "\(via)")
        }
        #expect(Self.printedRules(result.stdout).isEmpty, "\(result.stdout)")
    }

    @Test(arguments: ["-O", "-Onone"])
    func returningFromACancellationHandlerWhileCancelledIsAFlag(optimization: String) throws {
        let (result, trace) = try RunOutput.record(try ScenarioBinaries.path(optimization), ["handler-returns"])
        #expect(result.stdout.hasPrefix("handler: success(0)"))
        let task = try #require(trace.events.first { $0.kind == .cancel }?.task)
        let signals = trace.events.filter { $0.kind == .signal && $0.task == task }
        #expect(signals.last?.signalKind == .flag && signals.last.map { trace.strings[$0.via] } == "withTaskCancellationHandler",
                "\(signals)")
        #expect(Self.printedRules(result.stdout).isEmpty, "\(result.stdout)")
    }

    @Test(arguments: ["-O", "-Onone"])
    func anAsyncLetChildIsCancelledByItsParent(optimization: String) throws {
        let (result, trace) = try RunOutput.record(try ScenarioBinaries.path(optimization), ["async-let-cancel"])
        #expect(result.stdout.hasPrefix("outer: failure(Swift.CancellationError())"))
        let root = try #require(trace.events.first { $0.kind == .spawn && $0.spawnKind == .root }?.task)
        let outer = try #require(trace.events.first { $0.kind == .spawn && $0.parent == root }?.task)
        let child = try #require(trace.events.first { $0.kind == .spawn && $0.parent == outer }?.task)
        let cancels = Dictionary(trace.events.filter { $0.kind == .cancel }.map { ($0.task, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(cancels[outer]?.canceller == root && cancels[outer]?.cancelReason == .explicit)
        // Before, the child's room had no parent link: reason unknown, by the thread's task (main).
        #expect(cancels[child]?.canceller == outer && cancels[child]?.cancelReason == .parent, "\(cancels)")
    }

    @Test(arguments: ["-O", "-Onone"])
    func aCancellationErrorResumedIntoAnUnsafeContinuationIsReceived(optimization: String) throws {
        let (result, trace) = try RunOutput.record(try ScenarioBinaries.path(optimization), ["unsafe-continuation"])
        #expect(result.stdout.hasPrefix("unsafe: success(1)"))
        let task = try #require(trace.events.first { $0.kind == .cancel }?.task)
        #expect(trace.events.contains {
            $0.kind == .signal && $0.task == task && $0.signalKind == .received && trace.strings[$0.via] == "continuation resume"
        })
        #expect(Self.printedRules(result.stdout) == ["returned-after-cancellation-error"], "\(result.stdout)")
    }

    @Test(arguments: ["-O", "-Onone"])
    func aCancelBeforeTheStartIsExplicitAndOneAfterTheEndIsNotRecorded(optimization: String) throws {
        let (result, trace) = try RunOutput.record(try ScenarioBinaries.path(optimization), ["cancel-early-and-late"])
        #expect(result.stdout.hasPrefix("early: failure(Swift.CancellationError()) done: success(1)"), "\(result.stdout)")
        let root = try #require(trace.events.first { $0.kind == .spawn && $0.spawnKind == .root }?.task)
        let children = trace.events.filter { $0.kind == .spawn && $0.task != root }.map(\.task)
        #expect(children.count == 2)
        let cancels = trace.events.filter { $0.kind == .cancel }
        #expect(cancels.count == 1, "\(cancels)")
        #expect(cancels.first?.task == children.first && cancels.first?.canceller == root
            && cancels.first?.cancelReason == .explicit)
        #expect(!result.stdout.contains("already ended"), "\(result.stdout)")
    }

    /// 16 OS threads spawn and cancel at once while the writer merges every millisecond: the file is in time order
    /// (no reader notice), every record of a task comes after its spawn, nothing is dropped, every task ends, and
    /// every cancel keeps its explicit reason (the pending-cancel table does not lose cancels of tasks not started
    /// yet). The old library (1,024 pending slots behind one lock, a fixed 5 ms hold-back) lost the explicit reason
    /// of some cancels on every run, and under load also wrote times going backwards.
    @Test(arguments: ["-O", "-Onone"])
    func tasksSpawnedAndCancelledFromSixteenThreadsAreInTimeOrder(optimization: String) throws {
        let (result, trace) = try RunOutput.record(try ScenarioBinaries.path(optimization), ["thread-churn"],
                                                   environment: ["CANCELTRACE_FLUSH_MS": "1"])
        #expect(result.stdout.hasPrefix("thread-churn: done"), "\(result.stdout)")
        #expect(trace.notices.isEmpty, "\(RunTrace.brief(trace.notices))")
        #expect(trace.sawClose)
        #expect(!trace.events.contains { $0.kind == .dropped }, "\(RunTrace.brief(trace.events.filter { $0.kind == .dropped }))")
        var spawned = Set<TaskID>(), ended = Set<TaskID>(), outOfOrder: [TraceEvent] = []
        for event in trace.events where event.task != 0 {
            if event.kind == .spawn { spawned.insert(event.task) } else if !spawned.contains(event.task) { outOfOrder.append(event) }
            if event.kind == .end { ended.insert(event.task) }
        }
        #expect(outOfOrder.isEmpty, "before their task's spawn: \(RunTrace.brief(outOfOrder))")
        #expect(spawned.count == 16 * 300 + 16 + 1, "each thread's 300 tasks and waiter, and main")
        #expect(spawned.subtracting(ended).isEmpty && ended.subtracting(spawned).isEmpty,
                "no end: \(spawned.subtracting(ended).sorted()), no spawn: \(ended.subtracting(spawned).sorted())")
        let cancels = trace.events.filter { $0.kind == .cancel }
        #expect(!cancels.isEmpty && cancels.count <= 16 * 150)
        #expect(cancels.allSatisfy { $0.cancelReason == .explicit }, "\(cancels.filter { $0.cancelReason != .explicit }.count) not explicit")
    }

    /// The message `canceltrace run` gives a cancel it writes later than its time (Docs/TraceFormat.md).
    static let lateCancelMessage = "recorded late: requested earlier than this time"

    /// One scenario of the writer's holds, read back: its root, the one cancel, and the first detached task (spawned
    /// after the cancel, or while the cancelling thread was held).
    struct HoldRun {
        let stdout: String
        let trace: RunTrace
        let root: TaskID
        let cancelIndex: Int
        let laterSpawnIndex: Int
        var cancel: TraceEvent { trace.events[cancelIndex] }
        var laterSpawn: TraceEvent { trace.events[laterSpawnIndex] }
        var message: String { trace.strings[cancel.message] }
    }

    static func holdRun(_ optimization: String, _ scenario: String, holdMilliseconds: Int) throws -> HoldRun {
        let (result, trace) = try RunOutput.record(try ScenarioBinaries.path(optimization), [scenario],
                                                   environment: ["CANCELTRACE_FLUSH_MS": "1",
                                                                 "CANCELTRACE_TEST_MAX_HOLD_MS": "\(holdMilliseconds)"])
        // The file is in time order: a late record is raised, never written with an earlier time.
        #expect(trace.notices.isEmpty, "\(trace.notices)")
        #expect(trace.sawClose)
        let root = try #require(trace.events.first { $0.kind == .spawn && $0.spawnKind == .root }?.task)
        let cancels = trace.events.indices.filter { trace.events[$0].kind == .cancel }
        #expect(cancels.count == 1, "\(cancels.map { trace.events[$0] })")
        let cancel = try #require(cancels.first)
        let later = try #require(trace.events.firstIndex { $0.kind == .spawn && $0.spawnKind == .detached })
        #expect(trace.events[cancel].cancelReason == .explicit)
        return HoldRun(stdout: result.stdout, trace: trace, root: root, cancelIndex: cancel, laterSpawnIndex: later)
    }

    /// A task cancelled before it can start, then a task spawned after the cancel; the first starts only after the
    /// writer has had 20 rounds to write the second's spawn. The writer holds the file at the cancel's time until
    /// the task's start shows the cancel took effect, so the cancel keeps its own time, before the later spawn.
    /// Before, the writer wrote on, and the cancel, recorded at the start, was raised past the later spawn without
    /// a word. (The hold limit is set far beyond any wait here, so load cannot make the writer give up.)
    @Test(arguments: ["-O", "-Onone"])
    func aCancelBeforeTheStartKeepsItsOwnTime(optimization: String) throws {
        let run = try Self.holdRun(optimization, "cancel-before-start", holdMilliseconds: 600_000)
        #expect(run.stdout.hasPrefix("early: failure(Swift.CancellationError()) later: 1 writer passed the cancel: false"),
                "\(run.stdout)")
        let early = try #require(run.trace.events.first { $0.kind == .spawn && $0.parent == run.root && $0.spawnKind == .unstructured }?.task)
        #expect(run.cancel.task == early && run.cancel.canceller == run.root)
        #expect(run.cancelIndex < run.laterSpawnIndex && run.cancel.time < run.laterSpawn.time,
                "cancel at \(run.cancel.time), later spawn at \(run.laterSpawn.time)")
        #expect(run.message.isEmpty)
    }

    /// The same, but the task starts only after the writer has written the later spawn (a 50 ms hold limit: it gave
    /// the cancel up): the cancel is written late, after the later spawn, and its message says so.
    @Test(arguments: ["-O", "-Onone"])
    func aCancelBeforeTheStartThatTheWriterGaveUpOnIsMarkedLate(optimization: String) throws {
        let run = try Self.holdRun(optimization, "cancel-before-start-given-up", holdMilliseconds: 50)
        #expect(run.stdout.hasPrefix("early: failure(Swift.CancellationError()) later: 1 writer passed the cancel: true"),
                "\(run.stdout)")
        #expect(run.cancel.canceller == run.root)
        #expect(run.cancelIndex > run.laterSpawnIndex)
        #expect(run.message == Self.lateCancelMessage)
    }

    /// A cancellation handler blocks the cancelling thread inside the cancel hook's window until the writer has
    /// written a task spawned meanwhile: it does, once the window has been open longer than the hold limit (50 ms
    /// here; 1 s by default). Without that escape the writer waits for the window as long as it is open (the
    /// scenario then gives up after 120 s and prints `false`). The blocked cancel is written late, marked.
    @Test(arguments: ["-O", "-Onone"])
    func aWindowHeldOpenPastTheHoldLimitNoLongerHoldsTheWriter(optimization: String) throws {
        let run = try Self.holdRun(optimization, "held-window", holdMilliseconds: 50)
        #expect(run.stdout.hasPrefix("held: 0 later: 1 writer passed the held window: true"), "\(run.stdout)")
        #expect(run.cancelIndex > run.laterSpawnIndex)
        #expect(run.message == Self.lateCancelMessage)
    }

    @Test func helpIsHelpNotACommand() throws {
        let result = try CLIRunner.run(["run", "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: canceltrace run"), "\(result.stdout)")
    }

    @Test func programKeepsItsOutputAndExitStatus() throws {
        let binary = try ScenarioBinaries.path("-Onone")
        let plain = try ProcessRunner.run(binary, ["no-such-scenario"])
        #expect(plain.status == 64)
        let (traced, _) = try RunOutput.record(binary, ["no-such-scenario"])
        #expect(traced.status == 64)
        #expect(traced.stdout.hasPrefix(plain.stdout))
        #expect(!plain.stdout.isEmpty)
        let swallowed = try ProcessRunner.run(binary, ["swallow-catch-all"])
        let (tracedSwallow, _) = try RunOutput.record(binary, ["swallow-catch-all"])
        #expect(tracedSwallow.stdout.hasPrefix(swallowed.stdout))
        #expect(swallowed.stdout == "long_task: success()\n")
    }

    @Test func unknownRuntimeLayoutRecordsSpawnsAndExplicitCancelsOnly() throws {
        let binary = try ScenarioBinaries.path("-Onone")
        let (result, trace) = try RunOutput.record(binary, ["swallow-catch-all"], environment: ["CANCELTRACE_TEST_UNKNOWN_LAYOUT": "1"])
        #expect(result.stdout.hasPrefix("long_task: success()\n"))
        #expect(result.stderr.contains("canceltrace: Swift concurrency runtime layout"))
        #expect(trace.info["preload-mode"] == "degraded")
        #expect(trace.info["notice"]?.contains("only spawns and explicit cancels") == true)
        #expect(trace.events.filter { $0.kind == .spawn }.count == 2)
        let cancels = trace.events.filter { $0.kind == .cancel }
        #expect(cancels.count == 1 && cancels.first?.cancelReason == .explicit)
        #expect(!trace.events.contains { $0.kind == .end })
        // Without ends, no task may be reported as leaked or slow.
        #expect(!result.stdout.contains("[leaked-task]") && !result.stdout.contains("[slow-cancellation]"), "\(result.stdout)")
        #expect(result.stdout.contains("only spawns and explicit cancels were recorded"))
    }

    /// The C writer's codes (`CT_WIRE_*` in Sources/CPreload/Internal.h) are the format's: each kind's code and
    /// name, the version, and the recorder version.
    @Test func preloadWriterUsesTheFormatsCodes() throws {
        let header = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/CPreload/Internal.h")
        let text = try String(contentsOf: header, encoding: .utf8)
        var defines: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("#define CT_") {
            let parts = line.split(separator: " ", maxSplits: 2)
            if parts.count == 3 { defines[String(parts[1])] = String(parts[2]) }
        }
        let kinds = defines.filter { $0.key.hasPrefix("CT_WIRE_") && !["CT_WIRE_MAJOR", "CT_WIRE_MINOR"].contains($0.key) }
        #expect(kinds.count == 10)
        for (name, value) in kinds {
            let code = try #require(UInt8(value.dropFirst(2), radix: 16), "\(name) = \(value)")
            let kind = try #require(EventKind(rawValue: code), "\(name) = \(value) is no kind")
            #expect(kind.spec.name == name.dropFirst("CT_WIRE_".count).lowercased(), "\(name) = \(value)")
        }
        #expect(defines["CT_WIRE_MAJOR"] == String(TraceLayout.majorVersion))
        #expect(defines["CT_WIRE_MINOR"] == String(TraceLayout.minorVersion))
        #expect(defines["CT_RECORDER_VERSION"] == "\"\(CancelTraceVersion.current)\"")
    }

    /// A Swift program of the toolchain itself (here swift-format; `swift test` starts swift-help, plugins…) is
    /// a build tool: it runs, and writes no trace.
    @Test func toolchainProgramsAreNotTraced() throws {
        let swiftFormat = URL(fileURLWithPath: ScenarioBinaries.swiftc).deletingLastPathComponent().appendingPathComponent("swift-format").path
        let (result, traces) = try RunOutput.run(swiftFormat, ["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(traces.isEmpty)
    }

    @Test func nonSwiftProgramRunsUntracedWithoutATrace() throws {
        let (result, traces) = try RunOutput.run("/bin/sh", ["-c", "echo plain; exit 3"])
        #expect(result.status == 3)
        #expect(result.stdout.hasPrefix("plain\n"))
        #expect(traces.isEmpty)
    }
}

/// The trace of one `canceltrace run`, read back.
struct RunTrace {
    var events: [TraceEvent] = []
    var strings = StringTable()
    var info = TraceInfo()
    var sawClose = false
    var notices: [ReadNotice] = []

    /// A failure message for a list that can hold thousands of items: CI shows only the first lines of a failed
    /// expectation, so the count and the first few.
    static func brief<T>(_ items: [T], first: Int = 5) -> String {
        "\(items.count): \(items.prefix(first))\(items.count > first ? " …" : "")"
    }
}

enum RunOutput {
    /// Runs `binary arguments` under `canceltrace run` into a fresh folder; returns the run and its one trace.
    static func record(_ binary: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> (CLIRunner.Result, RunTrace) {
        let (result, traces) = try run(binary, arguments, environment: environment)
        #expect(traces.count == 1, "\(traces.count) traces; stderr: \(result.stderr.prefix(2_000))")
        return (result, traces.first ?? RunTrace())
    }

    /// Runs `binary arguments` under `canceltrace run` into a fresh folder; returns the run and every trace written.
    static func run(_ binary: String, _ arguments: [String], environment: [String: String] = [:]) throws
        -> (CLIRunner.Result, [RunTrace]) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("canceltrace-run-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try CLIRunner.run(["run", "--output", folder, "--color", "never", "--", binary] + arguments,
                                       environment: environment)
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".ctrace") }
        return (result, try files.map { try read((folder as NSString).appendingPathComponent($0)) })
    }

    static func read(_ path: String) throws -> RunTrace {
        let reader = try TraceReader(path: path)
        var trace = RunTrace()
        while let event = try reader.next() { trace.events.append(event) }
        trace.strings = reader.strings
        trace.info = reader.info
        trace.sawClose = reader.sawClose
        trace.notices = reader.notices
        return trace
    }
}

/// The scenario program compiled once per optimization level.
enum ScenarioBinaries {
    static let built: [String: Result<String, Error>] = {
        var built: [String: Result<String, Error>] = [:]
        for optimization in ["-O", "-Onone"] { built[optimization] = Result { try compile(optimization) } }
        return built
    }()

    static func path(_ optimization: String) throws -> String { try built[optimization]!.get() }

    struct CompileFailed: Error, CustomStringConvertible { let description: String }

    /// The toolchain's swiftc: beside the libswiftCore.so this test process runs on, else on PATH.
    static var swiftc: String {
        let maps = (try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8)) ?? ""
        if let line = maps.split(separator: "\n").first(where: { $0.hasSuffix("/libswiftCore.so") }),
           let slash = line.firstIndex(of: "/") {
            let library = URL(fileURLWithPath: String(line[slash...]))
            // <toolchain>/usr/lib/swift/linux/libswiftCore.so → <toolchain>/usr/bin/swiftc
            let swiftc = library.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("bin/swiftc").path
            if FileManager.default.isExecutableFile(atPath: swiftc) { return swiftc }
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        return path.split(separator: ":").map { "\($0)/swiftc" }.first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "swiftc"
    }

    static func compile(_ optimization: String) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("RunScenarios/main.swift").path
        let output = FileManager.default.temporaryDirectory
            .appendingPathComponent("run-scenarios\(optimization)-\(UUID().uuidString)").path
        let result = try ProcessRunner.run(swiftc, [optimization, "-g", source, "-o", output])
        guard result.status == 0 else { throw CompileFailed(description: "swiftc \(optimization) failed: \(result.stderr)") }
        return output
    }
}

/// Runs a program directly, capturing its output.
enum ProcessRunner {
    static func run(_ path: String, _ arguments: [String]) throws -> CLIRunner.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errData = Thread.detachNewThreadResult { err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CLIRunner.Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                                stderr: String(decoding: errData.wait(), as: UTF8.self))
    }
}

extension Thread {
    final class Box<T>: @unchecked Sendable {
        var value: T?
        let done = DispatchSemaphore(value: 0)
        func wait() -> T {
            done.wait()
            return value!
        }
    }

    static func detachNewThreadResult<T>(_ body: @escaping @Sendable () -> T) -> Box<T> {
        let box = Box<T>()
        let thread = Thread {
            box.value = body()
            box.done.signal()
        }
        thread.start()
        return box
    }
}
#endif
