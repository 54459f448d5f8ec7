import CCycleCounter
import Synchronization

/// The lock around the recording session: a `Mutex` that, when taken, is retried for a moment before the
/// thread sleeps.
///
/// Every event holds it for a few tens of nanoseconds, so a thread that finds it taken nearly always gets it by
/// waiting a moment. `Mutex.withLock` alone goes to the kernel as soon as it is contended (a priority-inheritance
/// futex on Linux), which cost the task-churn benchmark most of its time when the two pool threads met on it.
/// Uncontended, it costs what `Mutex` costs: one inline compare-and-swap (a pthread adaptive mutex, tried
/// first, spun as well but added ~25 ns to every event).
final class SessionLock<Value: ~Copyable>: Sendable where Value: Sendable {
    private let mutex: Mutex<Value>
    private static var spins: Int { 200 }

    init(_ value: consuming sending Value) {
        mutex = Mutex(value)
    }

    @inline(__always)
    func withLock<Result, E: Error>(_ body: (inout sending Value) throws(E) -> sending Result) throws(E) -> sending Result {
        if let result = try mutex.withLockIfAvailable(body) { return result }
        return try withLockSlow(body)
    }

    @inline(never)
    private func withLockSlow<Result, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        for _ in 0..<Self.spins {
            cancel_trace_spin_pause()
            if let result = try mutex.withLockIfAvailable(body) { return result }
        }
        return try mutex.withLock(body)
    }

    /// Runs `body` if the lock is free right now; nil when it is taken.
    func withLockIfAvailable<Result, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result? {
        try mutex.withLockIfAvailable(body)
    }
}
