#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a pthread mutex, for the recorder's locks that threads may contend for (names, the list of
/// thread buffers, a group's running children, the flight recorder's ring). Not `Synchronization.Mutex`: on Linux a contended `Mutex` is handed
/// over by the kernel (a priority-inheritance futex) inside the uninstrumented runtime, so ThreadSanitizer sees no
/// acquire or release and reports races on state that is only touched under the lock; it understands pthread
/// mutexes. Uncontended both are one compare-and-swap, and none of these is taken per event.
final class Locked<Value: Sendable>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
