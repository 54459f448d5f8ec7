import Synchronization
import TraceRecorder

// Programs written once against the API the plain Swift constructs and the traced helpers share, so that
// BehaviourEquivalenceTests can run each through both and compare what it observes.

/// What a program observed: its result or error, and what its children did.
struct Observed: Equatable, CustomStringConvertible {
    var outcome: String
    /// Facts whose order Swift does not define (which children started, saw their cancel, finished), sorted.
    var facts: [String]
    /// Facts in the order the program saw them, where Swift defines it.
    var ordered: [String]

    var description: String { "\(outcome) facts: \(facts) ordered: \(ordered)" }
}

/// The children's side of an observation. Thread-safe.
final class Probe: Sendable {
    private let notes = Mutex<[String]>([])
    private let orderedNotes = Mutex<[String]>([])

    func note(_ fact: String) { notes.withLock { $0.append(fact) } }
    func noteInOrder(_ fact: String) { orderedNotes.withLock { $0.append(fact) } }

    func observed(_ outcome: String) -> Observed {
        Observed(outcome: outcome, facts: notes.withLock { $0.sorted() }, ordered: orderedNotes.withLock { $0 })
    }

    /// A child that returns `value` at once.
    func quick<T: Sendable>(_ name: String, _ value: T) -> @Sendable () async -> T {
        { self.note("\(name) ran"); return value }
    }

    /// A child that sleeps `milliseconds` and returns `value`; notes whether it saw a cancel instead.
    func sleeper<T: Sendable>(_ name: String, _ value: T, milliseconds: Int = 30_000) -> @Sendable () async throws -> T {
        {
            self.note("\(name) ran")
            do {
                try await Task.sleep(for: .milliseconds(milliseconds))
            } catch {
                self.note("\(name) cancelled")
                throw error
            }
            self.note("\(name) finished")
            return value
        }
    }

    /// A non-throwing child that waits until cancelled (or 30 s), notes which, and returns `value`.
    func waiter<T: Sendable>(_ name: String, _ value: T) -> @Sendable () async -> T {
        {
            self.note("\(name) ran")
            try? await Task.sleep(for: .seconds(30))
            self.note(Task.isCancelled ? "\(name) cancelled" : "\(name) finished")
            return value
        }
    }

    /// A child that sleeps `milliseconds`, then throws `ProgramError(name)`.
    func failing<T: Sendable>(_ name: String, milliseconds: Int = 0, _: T.Type = T.self) -> @Sendable () async throws -> T {
        {
            self.note("\(name) ran")
            if milliseconds > 0 { try await Task.sleep(for: .milliseconds(milliseconds)) }
            throw ProgramError(name: name)
        }
    }
}

struct ProgramError: Error, Equatable, CustomStringConvertible {
    let name: String
    var description: String { "ProgramError(\(name))" }
}

/// `outcome` of a throwing program: its value, or the error it threw.
func outcome<T>(_ body: () async throws -> T) async -> String {
    do {
        return "returned \(try await body())"
    } catch {
        return "threw \(error)"
    }
}

// MARK: The API each kind of group shares with its traced counterpart

protocol ThrowingGroup<Child> {
    associatedtype Child: Sendable
    mutating func add(_ operation: sending @escaping @isolated(any) () async throws -> Child)
    mutating func addUnlessCancelled(_ operation: sending @escaping @isolated(any) () async throws -> Child) -> Bool
    mutating func next() async throws -> Child?
    mutating func nextResult() async -> Result<Child, any Error>?
    mutating func waitForAll() async throws
    func cancelAll()
    var isCancelled: Bool { get }
    var isEmpty: Bool { get }
    func results() async throws -> [Child]
}

extension ThrowingTaskGroup: ThrowingGroup where Failure == any Error {
    typealias Child = ChildTaskResult
    mutating func add(_ operation: sending @escaping @isolated(any) () async throws -> Child) { addTask(operation: operation) }
    mutating func addUnlessCancelled(_ operation: sending @escaping @isolated(any) () async throws -> Child) -> Bool {
        addTaskUnlessCancelled(operation: operation)
    }
    mutating func next() async throws -> Child? { try await next(isolation: nil) }
    mutating func nextResult() async -> Result<Child, any Error>? { await nextResult(isolation: nil) }
    mutating func waitForAll() async throws { try await waitForAll(isolation: nil) }
    func results() async throws -> [Child] {
        var all: [Child] = []
        for try await value in self { all.append(value) }
        return all
    }
}

extension TracedThrowingTaskGroup: ThrowingGroup {
    typealias Child = ChildResult
    mutating func add(_ operation: sending @escaping @isolated(any) () async throws -> Child) { addTask(operation: operation) }
    mutating func addUnlessCancelled(_ operation: sending @escaping @isolated(any) () async throws -> Child) -> Bool {
        addTaskUnlessCancelled(operation: operation)
    }
    mutating func next() async throws -> Child? { try await next(isolation: nil) }
    mutating func nextResult() async -> Result<Child, any Error>? { await nextResult(isolation: nil) }
    mutating func waitForAll() async throws { try await waitForAll(isolation: nil) }
    func cancelAll() { cancelAll(reason: .explicit) }
    func results() async throws -> [Child] {
        var all: [Child] = []
        for try await value in self { all.append(value) }
        return all
    }
}

protocol PlainGroup<Child> {
    associatedtype Child: Sendable
    mutating func add(_ operation: sending @escaping @isolated(any) () async -> Child)
    mutating func addUnlessCancelled(_ operation: sending @escaping @isolated(any) () async -> Child) -> Bool
    mutating func next() async -> Child?
    mutating func waitForAll() async
    func cancelAll()
    var isCancelled: Bool { get }
    func results() async -> [Child]
}

extension TaskGroup: PlainGroup {
    typealias Child = ChildTaskResult
    mutating func add(_ operation: sending @escaping @isolated(any) () async -> Child) { addTask(operation: operation) }
    mutating func addUnlessCancelled(_ operation: sending @escaping @isolated(any) () async -> Child) -> Bool {
        addTaskUnlessCancelled(operation: operation)
    }
    mutating func next() async -> Child? { await next(isolation: nil) }
    mutating func waitForAll() async { await waitForAll(isolation: nil) }
    func results() async -> [Child] {
        var all: [Child] = []
        for await value in self { all.append(value) }
        return all
    }
}

extension TracedTaskGroup: PlainGroup {
    typealias Child = ChildResult
    mutating func add(_ operation: sending @escaping @isolated(any) () async -> Child) { addTask(operation: operation) }
    mutating func addUnlessCancelled(_ operation: sending @escaping @isolated(any) () async -> Child) -> Bool {
        addTaskUnlessCancelled(operation: operation)
    }
    mutating func next() async -> Child? { await next(isolation: nil) }
    mutating func waitForAll() async { await waitForAll(isolation: nil) }
    func cancelAll() { cancelAll(reason: .explicit) }
    func results() async -> [Child] {
        var all: [Child] = []
        for await value in self { all.append(value) }
        return all
    }
}

protocol DiscardingGroup {
    mutating func add(_ operation: sending @escaping @isolated(any) () async throws -> Void)
    mutating func addUnlessCancelled(_ operation: sending @escaping @isolated(any) () async throws -> Void) -> Bool
    func cancelAll()
    var isCancelled: Bool { get }
}

extension ThrowingDiscardingTaskGroup: DiscardingGroup where Failure == any Error {
    mutating func add(_ operation: sending @escaping @isolated(any) () async throws -> Void) { addTask(operation: operation) }
    mutating func addUnlessCancelled(_ operation: sending @escaping @isolated(any) () async throws -> Void) -> Bool {
        addTaskUnlessCancelled(operation: operation)
    }
}

extension TracedThrowingDiscardingTaskGroup: DiscardingGroup {
    mutating func add(_ operation: sending @escaping @isolated(any) () async throws -> Void) { addTask(operation: operation) }
    mutating func addUnlessCancelled(_ operation: sending @escaping @isolated(any) () async throws -> Void) -> Bool {
        addTaskUnlessCancelled(operation: operation)
    }
    func cancelAll() { cancelAll(reason: .explicit) }
}

extension Probe {
    /// Lets gated child `step` go on (see `gated`).
    func release(_ step: Int) { note("released \(step)") }

    /// Waits until every fact in `facts` was noted. Polls: test programs only.
    func waitFor(_ facts: [String]) async {
        while !notes.withLock({ noted in facts.allSatisfy(noted.contains) }) {
            try? await Task.sleep(for: .milliseconds(1))
        }
    }

    /// A child that returns `step` only once the body released it: completion order set by the body.
    func gated(_ step: Int) -> @Sendable () async throws -> Int {
        {
            await self.waitFor(["released \(step)"])
            return step
        }
    }
}

// MARK: Programs

/// Programs over a throwing group of `Int` children. Each says what Swift defines about it in its name.
enum ThrowingGroupProgram: String, CaseIterable, Sendable {
    case timeoutRaceFetchWins
    case timeoutRaceDeadlineWins
    case bodyReturnsWithoutAwaitingFailedChildren
    case nextThrowsAChildErrorAndTheBodyRethrowingCancelsTheRest
    case waitForAllThrowsTheFirstErrorAndCancelsNothing
    case forTryAwaitCollectsEveryResult
    case forTryAwaitStopsAtAFailure
    case nextResultCarriesErrorsAsValues
    case addUnlessCancelledRefusesAfterCancelAll
    case bodyThrowingCancelsTheChildren
    case nextReturnsResultsInCompletionOrder
    case outerCancelReachesTheChildren

    /// Facts after which the test cancels the task running the program, if any.
    var cancelOuterAfter: [String]? {
        self == .outerCancelReachesTheChildren ? ["a ran", "b ran"] : nil
    }

    func run<G: ThrowingGroup>(_ group: inout G, _ probe: Probe) async throws -> String where G.Child == Int {
        switch self {
        case .timeoutRaceFetchWins, .timeoutRaceDeadlineWins:
            // The hand-written timeout: the loser is cancelled and its CancellationError nobody awaits.
            let fetchWins = self == .timeoutRaceFetchWins
            group.add(probe.sleeper("fetch", 1, milliseconds: fetchWins ? 5 : 30_000))
            group.add(probe.sleeper("deadline", -1, milliseconds: fetchWins ? 30_000 : 5))
            let first = try await group.next()!
            group.cancelAll()
            return "\(first)"
        case .bodyReturnsWithoutAwaitingFailedChildren:
            group.add(probe.failing("a", Int.self))
            group.add(probe.failing("b", milliseconds: 5, Int.self))
            group.add(probe.quick("c", 3))
            return "42"
        case .nextThrowsAChildErrorAndTheBodyRethrowingCancelsTheRest:
            group.add(probe.failing("bad", milliseconds: 5, Int.self))
            group.add(probe.sleeper("slow", 2))
            _ = try await group.next()
            return "unreachable"
        case .waitForAllThrowsTheFirstErrorAndCancelsNothing:
            group.add(probe.failing("bad", Int.self))
            group.add(probe.sleeper("ok", 2, milliseconds: 20))
            do {
                try await group.waitForAll()
            } catch {
                return "waitForAll threw \(error), empty: \(group.isEmpty)"
            }
            return "waitForAll returned"
        case .forTryAwaitCollectsEveryResult:
            for value in 1...4 { group.add(probe.quick("c\(value)", value)) }
            return "\(try await group.results().sorted())"
        case .forTryAwaitStopsAtAFailure:
            group.add(probe.failing("bad", milliseconds: 5, Int.self))
            group.add(probe.sleeper("slow", 2))
            return "\(try await group.results())"
        case .nextResultCarriesErrorsAsValues:
            group.add(probe.failing("bad", Int.self))
            group.add(probe.quick("good", 1))
            var seen: [String] = []
            while let result = await group.nextResult() { seen.append("\(result)") }
            return "\(seen.sorted())"
        case .addUnlessCancelledRefusesAfterCancelAll:
            let before = group.addUnlessCancelled(probe.quick("early", 1))
            _ = try await group.next()
            group.cancelAll()
            let after = group.addUnlessCancelled(probe.quick("late", 2))
            return "added before: \(before), after: \(after), cancelled: \(group.isCancelled)"
        case .bodyThrowingCancelsTheChildren:
            group.add(probe.sleeper("x", 1))
            await probe.waitFor(["x ran"])
            throw ProgramError(name: "body")
        case .nextReturnsResultsInCompletionOrder:
            for step in [3, 1, 2] { group.add(probe.gated(step)) }
            for step in 1...3 {
                probe.release(step)
                probe.noteInOrder("got \(try await group.next()!)")
            }
            return "done"
        case .outerCancelReachesTheChildren:
            group.add(probe.sleeper("a", 1))
            group.add(probe.sleeper("b", 2))
            try await group.waitForAll()
            return "waited"
        }
    }
}

/// Programs over a non-throwing group of `Int` children.
enum PlainGroupProgram: String, CaseIterable, Sendable {
    case bodyReturnsAndTheGroupAwaitsTheRest
    case forAwaitCollectsEveryResult
    case cancelAllReachesRunningChildren
    case addUnlessCancelledRefusesAfterCancelAll
    case waitForAllWaitsForEveryChild

    func run<G: PlainGroup>(_ group: inout G, _ probe: Probe) async -> String where G.Child == Int {
        switch self {
        case .bodyReturnsAndTheGroupAwaitsTheRest:
            group.add(probe.quick("a", 1))
            group.add { await probe.quick("b", 2)() }
            return "7"
        case .forAwaitCollectsEveryResult:
            for value in 1...4 { group.add(probe.quick("c\(value)", value)) }
            return "\(await group.results().sorted())"
        case .cancelAllReachesRunningChildren:
            group.add(probe.waiter("w1", 1))
            group.add(probe.waiter("w2", 2))
            await probe.waitFor(["w1 ran", "w2 ran"])
            group.cancelAll()
            return "\(await group.results().sorted())"
        case .addUnlessCancelledRefusesAfterCancelAll:
            group.cancelAll()
            let added = group.addUnlessCancelled(probe.quick("late", 1))
            return "added: \(added), cancelled: \(group.isCancelled)"
        case .waitForAllWaitsForEveryChild:
            group.add(probe.waiter("w", 1))
            group.add(probe.quick("q", 2))
            await probe.waitFor(["w ran"])
            group.cancelAll()
            await group.waitForAll()
            return "empty"
        }
    }
}

/// Programs over a throwing discarding group.
enum DiscardingGroupProgram: String, CaseIterable, Sendable {
    case everyChildRunsAndTheBodyValueComesBack
    case aFailingChildCancelsItsSiblingsAndItsErrorIsThrown
    case bodyThrowingCancelsTheChildrenAndItsErrorWins
    case addUnlessCancelledRefusesAfterCancelAll

    func run<G: DiscardingGroup>(_ group: inout G, _ probe: Probe) async throws -> String {
        switch self {
        case .everyChildRunsAndTheBodyValueComesBack:
            for name in ["a", "b", "c"] { group.add { _ = await probe.quick(name, 0)() } }
            return "body"
        case .aFailingChildCancelsItsSiblingsAndItsErrorIsThrown:
            group.add { _ = try await probe.sleeper("w1", 0)() }
            group.add { _ = try await probe.sleeper("w2", 0)() }
            await probe.waitFor(["w1 ran", "w2 ran"])
            group.add { _ = try await probe.failing("bad", Int.self)() }
            return "body"
        case .bodyThrowingCancelsTheChildrenAndItsErrorWins:
            group.add { _ = try await probe.sleeper("w", 0)() }
            await probe.waitFor(["w ran"])
            throw ProgramError(name: "body")
        case .addUnlessCancelledRefusesAfterCancelAll:
            group.cancelAll()
            let added = group.addUnlessCancelled { _ = await probe.quick("late", 0)() }
            return "added: \(added), cancelled: \(group.isCancelled)"
        }
    }
}
