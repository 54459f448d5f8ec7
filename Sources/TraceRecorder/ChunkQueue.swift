#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TraceFormat

/// The bounded hand-off between recording threads and the background writer.
///
/// Recording threads submit full chunk encoders and get an empty one back (recycled from the writer, so a
/// running session allocates no buffers); the writer takes them in order. At most `capacity` chunks wait.
/// A pthread mutex and condition variable, because a producer must be able to wait for room and the writer must
/// be able to wait for work with a deadline; `Synchronization.Mutex` has no condition variable.
final class ChunkQueue: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `mutex`.
    private var pending: [EventEncoder] = []
    private var spares: [EventEncoder] = []
    private var stopping = false
    /// Chunks submitted and not yet written and recycled by the writer.
    private var unwritten = 0
    private let capacity: Int
    private let chunkCapacity: Int

    init(capacity: Int, chunkSize: Int) {
        self.capacity = max(1, capacity)
        self.chunkCapacity = chunkSize + 256
        pending.reserveCapacity(self.capacity)
        spares.reserveCapacity(self.capacity + 2)
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if os(Linux)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(changed, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// A new empty encoder, for the session's first chunk.
    func makeEncoder() -> EventEncoder { EventEncoder(reservingCapacity: chunkCapacity) }

    /// Queues `encoder`'s chunk and replaces it with an empty encoder. When the queue is full, waits for room if
    /// `waitForRoom`, otherwise returns false and leaves `encoder` as it was.
    func submit(_ encoder: inout EventEncoder, waitForRoom: Bool) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while pending.count >= capacity {
            if !waitForRoom { return false }
            pthread_cond_wait(changed, mutex)
        }
        let empty = spares.popLast() ?? EventEncoder(reservingCapacity: chunkCapacity)
        pending.append(encoder)
        unwritten += 1
        encoder = empty
        pthread_cond_broadcast(changed)
        return true
    }

    enum Work {
        case chunk(EventEncoder)
        case deadlinePassed
        case stopped
    }

    /// The writer's next chunk; waits for one until `deadline` (monotonic ns). After `stop()`, drains the queue
    /// and then returns `.stopped`.
    func next(deadline: UInt64) -> Work {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while pending.isEmpty {
            if stopping { return .stopped }
            if MonotonicClock.now() >= deadline { return .deadlinePassed }
            var spec = timespec()
            #if os(Linux)
            spec.tv_sec = Int(deadline / 1_000_000_000)
            spec.tv_nsec = Int(deadline % 1_000_000_000)
            pthread_cond_timedwait(changed, mutex, &spec)
            #else
            let wait = deadline &- MonotonicClock.now()
            spec.tv_sec = Int(wait / 1_000_000_000)
            spec.tv_nsec = Int(wait % 1_000_000_000)
            pthread_cond_timedwait_relative_np(changed, mutex, &spec)
            #endif
        }
        return .chunk(pending.removeFirst())
    }

    /// Returns a written chunk's encoder (already cleared) for reuse.
    func recycle(_ encoder: EventEncoder) {
        pthread_mutex_lock(mutex)
        spares.append(encoder)
        unwritten -= 1
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// Chunks waiting for the writer now (never more than the capacity): what bounds memory when it falls behind.
    var pendingCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return pending.count
    }

    /// Waits until the writer has written every chunk submitted so far (the flight recorder's snapshot needs them).
    func waitUntilWritten() {
        pthread_mutex_lock(mutex)
        while unwritten > 0 { pthread_cond_wait(changed, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Asks the writer to finish the queued chunks and stop.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }
}
