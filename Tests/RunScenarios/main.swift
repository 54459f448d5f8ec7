// The eight scenarios of Samples/Swift written as plain Swift: no TraceRecorder, no annotations. RunCommandTests
// compiles this file with swiftc at -O and -Onone and records each scenario with `canceltrace run`
// (Docs/Run.md lists what each trace shows). Usage: run-scenarios SCENARIO
#if canImport(Glibc)
import Glibc
#endif
import Dispatch

struct SensorOffline: Error {}
struct FetchFailed: Error {}
struct TimeoutError: Error {}

/// Stands in for I/O that must finish even in a cancelled task (its own unstructured task: the cancel does not reach it).
func closeConnection() async {
    _ = await Task { try await Task.sleep(for: .milliseconds(2)) }.result
}

/// The usual hand-written timeout: race the operation against a sleep in a throwing group.
func withTimeout<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

func cancelCleanupRethrow() async {
    let task = Task {
        do {
            try await Task.sleep(for: .seconds(100))
        } catch {
            await closeConnection()
            throw error
        }
    }
    try? await Task.sleep(for: .milliseconds(10))
    task.cancel()
    print("long_task:", await task.result)
}

func swallowCatchAll() async {
    let task = Task {
        do {
            try await Task.sleep(for: .seconds(100))
        } catch {
            // BUG: nothing rethrows, so the task returns normally after being cancelled.
        }
    }
    try? await Task.sleep(for: .milliseconds(10))
    task.cancel()
    print("long_task:", await task.result)
}

func swallowTrySleep() async {
    let poller = Task {
        // Each poll lasts until the cancel (100 s, like the other scenarios' waits): with 5 ms polls, a main thread
        // held up on a loaded machine could find the poller done and cancel nothing. After the cancel every sleep
        // throws at once, and `try?` eats it.
        for _ in 0..<200 {
            try? await Task.sleep(for: .seconds(100))  // BUG: `try?` eats the cancellation
        }
    }
    try? await Task.sleep(for: .milliseconds(12))
    poller.cancel()
    print("poller:", await poller.result)
}

func timeout() async {
    do {
        try await withTimeout(.milliseconds(20)) { try await Task.sleep(for: .seconds(100)) }
        print("slow_operation: finished")
    } catch {
        print("slow_operation:", error)
    }
}

func groupSiblingFailure() async {
    do {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await Task.sleep(for: .seconds(100)) }
            group.addTask { try await Task.sleep(for: .seconds(100)) }
            group.addTask {
                try await Task.sleep(for: .milliseconds(10))
                throw SensorOffline()
            }
            do {
                while try await group.next() != nil {}
            } catch {
                group.cancelAll()  // a body that throws waits for the siblings; it does not cancel them
                throw error
            }
        }
    } catch {
        print("group:", error)
    }
}

func shield() async {
    let cancelled = Flag()
    let outer = Task {
        // The critical part runs in its own task, which the outer task's cancel does not reach. It runs until main
        // has cancelled the outer task: with a fixed 60 ms, a main thread held up on a loaded machine could cancel
        // an outer task that had already returned.
        try await Task {
            while !cancelled.isSet { try await Task.sleep(for: .milliseconds(1)) }
        }.value
    }
    try? await Task.sleep(for: .milliseconds(10))
    outer.cancel()
    cancelled.set()
    print("outer:", await outer.result)
}

func convertError() async {
    let task = Task {
        do {
            try await Task.sleep(for: .seconds(100))
        } catch is CancellationError {
            throw FetchFailed()  // BUG: the cancellation becomes a failure
        }
    }
    try? await Task.sleep(for: .milliseconds(10))
    task.cancel()
    print("fetch:", await task.result)
}

func cancellerAwaits() async {
    let work = Task { try await Task.sleep(for: .seconds(100)) }
    try? await Task.sleep(for: .milliseconds(10))
    work.cancel()
    do {
        try await work.value
        print("work: finished")
    } catch {
        print("work:", error)  // the child's cancellation, not main's
    }
}

// Not a sample scenario: the same `Task {}` wrapper reached from two call sites must record two sites.
@inline(never) func spawnFromA() async -> Int { await Task { 1 }.value }
@inline(never) func spawnFromB() async -> Int { await Task { 2 }.value }
func twoSpawners() async {
    var sum = 0
    for _ in 0..<3 { sum += await spawnFromA() + spawnFromB() }
    print("sum:", sum)
}

// Not sample scenarios: what `run` sees beyond them (RunCommandTests).

/// A task cancels its own handle (merge's driver when its upstream finished), then meets the error once.
func selfCancel() async {
    let task = Task { () async throws -> Void in
        withUnsafeCurrentTask { $0?.cancel() }
        try? await Task.sleep(for: .milliseconds(1))
    }
    print("self:", await task.result)
}

/// A `Task<Void, Never>` watchdog and a `TaskGroup<Void>` child: each stops at its first CancellationError.
func voidWatchdogs() async {
    let watchdog = Task {
        do { try await Task.sleep(for: .seconds(100)) } catch {}
    }
    await withTaskGroup(of: Void.self) { group in
        group.addTask { try? await Task.sleep(for: .seconds(100)) }
        try? await Task.sleep(for: .milliseconds(10))
        group.cancelAll()
    }
    watchdog.cancel()
    print("watchdog:", await watchdog.result)
}

/// A `for await` over an AsyncStream ends when its task is cancelled: a flag, not a finding.
func streamEnds() async {
    let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    let consumer = Task { () async throws -> Void in
        for await _ in stream {}
    }
    try? await Task.sleep(for: .milliseconds(10))
    consumer.cancel()
    print("consumer:", await consumer.result)
    continuation.finish()
}

final class ContinuationSlot: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var continuation: UnsafeContinuation<Void, any Error>?
    init() { pthread_mutex_init(&lock, nil) }
    func put(_ value: UnsafeContinuation<Void, any Error>) {
        pthread_mutex_lock(&lock); continuation = value; pthread_mutex_unlock(&lock)
    }
    func take() -> UnsafeContinuation<Void, any Error>? {
        pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }
        let value = continuation
        continuation = nil
        return value
    }
}

/// A task waits in `withUnsafeThrowingContinuation`; it is cancelled and resumed with a CancellationError, which
/// its catch-all drops (BUG) before it returns a value.
func unsafeContinuation() async {
    let slot = ContinuationSlot()
    let task = Task { () async throws -> Int in
        do {
            try await withUnsafeThrowingContinuation { slot.put($0) }
        } catch {}
        return 1
    }
    var continuation = slot.take()
    while continuation == nil {
        try? await Task.sleep(for: .milliseconds(1))
        continuation = slot.take()
    }
    task.cancel()
    continuation?.resume(throwing: CancellationError())
    print("unsafe:", await task.result)
}

final class Flag: @unchecked Sendable {
    private var lock = pthread_mutex_t()
    private var value = false
    init() { pthread_mutex_init(&lock, nil) }
    func set() { pthread_mutex_lock(&lock); value = true; pthread_mutex_unlock(&lock) }
    var isSet: Bool { pthread_mutex_lock(&lock); defer { pthread_mutex_unlock(&lock) }; return value }
}

/// Code with a cancellation handler is told of the cancel by it and returns a value on purpose (AsyncChannel's
/// `next()` returning nil): a flag, not a finding.
func handlerReturns() async {
    let task = Task { () async throws -> Int in
        let cancelled = Flag()
        return await withTaskCancellationHandler {
            while !cancelled.isSet { await Task.yield() }
            return 0
        } onCancel: {
            cancelled.set()
        }
    }
    try? await Task.sleep(for: .milliseconds(10))
    task.cancel()
    print("handler:", await task.result)
}

/// An `async let` child of a task that is cancelled: the cancel reaches the child from its parent.
func asyncLetCancel() async {
    let outer = Task { () async throws -> Int in
        async let child: Int = {
            try await Task.sleep(for: .seconds(100))
            return 1
        }()
        return try await child
    }
    try? await Task.sleep(for: .milliseconds(10))
    outer.cancel()
    print("outer:", await outer.result)
}

/// A cancel right after the spawn (usually before the task starts) and one of a task that has already ended.
func cancelEarlyAndLate() async {
    let early = Task { () async throws -> Void in try await Task.sleep(for: .seconds(100)) }
    early.cancel()
    let done = Task { () async throws -> Int in 1 }
    _ = try? await done.value
    done.cancel()  // changes nothing: not a cancellation
    print("early:", await early.result, "done:", await done.result)
}

/// A task waiting on a stream through a generic algorithm (`first(where:)`, as swift-service-lifecycle's group child
/// "waiting forever until the group gets cancelled"), then returning a value: at -Onone the runtime's generic
/// code calls the iterator through its conformance's witness; the stream's `nil` on cancel is still a flag.
func streamFirst() async {
    let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    let (throwing, throwingContinuation) = AsyncThrowingStream.makeStream(of: Int.self)
    let waiter = Task { () async -> String in
        _ = await stream.first { _ in true }
        return "cancellation caught"
    }
    let throwingWaiter = Task { () async throws -> String in
        _ = try await throwing.contains { $0 < 0 }
        return "stopped"
    }
    try? await Task.sleep(for: .milliseconds(10))
    waiter.cancel()
    throwingWaiter.cancel()
    print("waiter:", await waiter.value, "throwing:", await throwingWaiter.result)
    continuation.finish()
    throwingContinuation.finish()
}

/// 16 OS threads at once each spawn 300 tasks, cancel every second one right away and wait for all: the hooks
/// record from 16 threads (and Swift's pool) while the writer merges (the test sets a 1 ms flush interval).
final class ThreadChurn: @unchecked Sendable {
    var mutex = pthread_mutex_t()
    var left = 16
    /// Each thread's waiter: it signals its thread before it returns, so `main` awaits them all before it exits
    /// (an exit while a waiter is still running would leave it without an end, a true trace but a flaky test).
    var waiters: [Task<Void, Never>] = []
    let finished: CheckedContinuation<[Task<Void, Never>], Never>
    init(_ finished: CheckedContinuation<[Task<Void, Never>], Never>) {
        self.finished = finished
        pthread_mutex_init(&mutex, nil)
    }

    func spawnCancelAndWait() {
        let tasks = (0..<300).map { _ in
            Task<Void, any Error> {
                await Task.yield()
                try Task.checkCancellation()
            }
        }
        for index in stride(from: 0, to: tasks.count, by: 2) { tasks[index].cancel() }
        let done = DispatchSemaphore(value: 0)
        let waiter = Task {
            for task in tasks { _ = await task.result }
            done.signal()
        }
        done.wait()  // this OS thread's own wait, not a pool thread's
        pthread_mutex_lock(&mutex)
        waiters.append(waiter)
        left -= 1
        let last = left == 0
        pthread_mutex_unlock(&mutex)
        if last { finished.resume(returning: waiters) }
    }
}

func threadChurn() async {
    let waiters = await withCheckedContinuation { (finished: CheckedContinuation<[Task<Void, Never>], Never>) in
        let churn = ThreadChurn(finished)
        for _ in 0..<16 {
            var thread = pthread_t()
            pthread_create(&thread, nil, { context in
                Unmanaged<ThreadChurn>.fromOpaque(context!).takeRetainedValue().spawnCancelAndWait()
                return nil
            }, Unmanaged.passRetained(churn).toOpaque())
            pthread_detach(thread)
        }
    }
    for waiter in waiters { await waiter.value }
    print("thread-churn: done")
}

// Not sample scenarios: the preload writer's holds (Docs/Run.md, "Time order"). The library's two test symbols let
// the program wait on the writer's progress instead of sleeping; without the library the waits return at once.

typealias WriterProgress = @convention(c) () -> UInt64
func preloadSymbol(_ name: String) -> WriterProgress? {
    dlsym(nil, name).map { unsafeBitCast($0, to: WriterProgress.self) }
}
let writerRounds = preloadSymbol("canceltrace_preload_writer_rounds")
let writtenUntil = preloadSymbol("canceltrace_preload_written_monotonic_ns")

func monotonicNow() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// Spawns a task (`later`), then blocks this thread until the writer has written its spawn, or has completed
/// `rounds` rounds without doing so (it holds the file at an earlier time). Written: the writer has written a time
/// at or after a clock reading taken after that spawn (a second task is spawned after the reading, so such a time
/// exists; the file is in time order). The deadline (`seconds`) is only the failure path's: a writer that never
/// gets there. Returns `later` and whether the writer got there.
func spawnAndWaitForWriter(orRounds rounds: UInt64? = nil, seconds: UInt64 = 120) -> (Task<Int, Never>, Bool) {
    let later = Task.detached { 1 }
    let time = monotonicNow()
    _ = Task.detached { 2 }
    guard let completed = writerRounds, let written = writtenUntil else { return (later, false) }
    let first = completed(), deadline = monotonicNow() + seconds * 1_000_000_000
    while written() < time {
        if let rounds, completed() >= first + rounds { return (later, false) }
        if monotonicNow() > deadline { return (later, false) }
        usleep(200)
    }
    return (later, true)
}

/// A task cancelled before it can start (it runs on the main actor, which this function keeps busy), then a task
/// spawned after that cancel; the task starts only once the writer has had its chance to write the later spawn:
/// `cancel-before-start` waits up to 20 writer rounds (the fixed library holds the file at the cancel's time);
/// `cancel-before-start-given-up` waits until the writer has written past the later spawn (the test sets a short
/// hold limit: the library gives the cancel up and records it late, marked so).
@MainActor func cancelBeforeStart(givenUp: Bool) async {
    let early = Task { @MainActor () async throws -> Void in try await Task.sleep(for: .seconds(100)) }
    early.cancel()
    // No suspension before this wait: the main actor stays busy, so `early` cannot start.
    let (later, reached) = spawnAndWaitForWriter(orRounds: givenUp ? nil : 20)
    print("early:", await early.result, "later:", await later.value, "writer passed the cancel:", reached)
}

final class HeldHandler: @unchecked Sendable {
    let entered = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
    let started = Flag()
    var task: Task<Int, Never>?
}

/// A cancellation handler blocks the cancelling thread (inside the cancel hook's window) until the writer has
/// written a task spawned after the handler began: the writer stops waiting for a window open longer than its
/// hold limit (the test sets a short one), and the blocked cancel is then written late, marked so.
func heldWindow() async {
    let held = HeldHandler()
    held.task = Task { () async -> Int in
        await withTaskCancellationHandler {
            held.started.set()
            try? await Task.sleep(for: .seconds(100))
            return 0
        } onCancel: {
            held.entered.signal()
            held.release.wait()
        }
    }
    while !held.started.isSet { try? await Task.sleep(for: .milliseconds(1)) }
    var thread = pthread_t()
    pthread_create(&thread, nil, { context in
        Unmanaged<HeldHandler>.fromOpaque(context!).takeRetainedValue().task?.cancel()
        return nil
    }, Unmanaged.passRetained(held).toOpaque())
    let (later, reached) = spawnWhileHeld(held)
    pthread_join(thread, nil)
    print("held:", await held.task!.value, "later:", await later.value, "writer passed the held window:", reached)
}

/// Waits for the handler to block, spawns a task, waits for the writer to pass it, then lets the handler return.
func spawnWhileHeld(_ held: HeldHandler) -> (Task<Int, Never>, Bool) {
    held.entered.wait()
    let (later, reached) = spawnAndWaitForWriter()
    held.release.signal()
    return (later, reached)
}

let scenarios: [String: () async -> Void] = [
    "cancel-cleanup-rethrow": cancelCleanupRethrow,
    "swallow-catch-all": swallowCatchAll,
    "swallow-try-sleep": swallowTrySleep,
    "timeout": timeout,
    "group-sibling-failure": groupSiblingFailure,
    "shield": shield,
    "convert-error": convertError,
    "canceller-awaits": cancellerAwaits,
    "two-spawners": twoSpawners,
    "self-cancel": selfCancel,
    "void-watchdogs": voidWatchdogs,
    "stream-ends": streamEnds,
    "unsafe-continuation": unsafeContinuation,
    "cancel-early-and-late": cancelEarlyAndLate,
    "handler-returns": handlerReturns,
    "async-let-cancel": asyncLetCancel,
    "thread-churn": threadChurn,
    "stream-first": streamFirst,
    "cancel-before-start": { await cancelBeforeStart(givenUp: false) },
    "cancel-before-start-given-up": { await cancelBeforeStart(givenUp: true) },
    "held-window": heldWindow,
]

let name = CommandLine.arguments.dropFirst().first ?? ""
guard let scenario = scenarios[name] else {
    print("usage: run-scenarios \(scenarios.keys.sorted().joined(separator: "|"))")
    exit(64)
}
await scenario()
