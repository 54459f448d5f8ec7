#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TraceFormat

/// What the recording threads of one session share: its number, policy, names, task ids, the list of their
/// buffers and the writer's wake-up. Nothing here is touched per event except atomics read by every thread
/// and written rarely (the live number), and the task-id counter at each spawn.
final class LiveSession: @unchecked Sendable {
    /// Which of the process's sessions this is (1, 2, …); task records and thread buffers remember it.
    let number: UInt64
    let policy: CancelTrace.Options.WriterPolicy
    let usesCycles: Bool
    /// Entries in each thread's ring (a power of two).
    let ringCapacity: Int
    let strings = StringInterner()
    let nextTaskID = Atomic<UInt64>(1)

    private let buffers = Locked<[EventBuffer]>([])
    /// Bumped when a buffer is added or removed, so the writer copies the list only then.
    let buffersGeneration = Atomic<Int>(0)

    // The writer's wake-up, guarded by `mutex`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var wakeRequested = false
    private var stopping = false
    private var flushesRequested = 0
    private var flushesDone = 0
    /// Set (relaxed) while the writer waits, so that producers signal only then.
    private let writerWaiting = Atomic<Bool>(false)

    init(number: UInt64, options: CancelTrace.Options, usesCycles: Bool) {
        self.number = number
        self.policy = options.whenWriterFallsBehind
        self.usesCycles = usesCycles
        // About as many events as the old queue of pending chunks held bytes / 32, at least 64 per thread.
        let wanted = max(64, min(1 << 16, max(1, options.maxPendingChunks) * max(256, options.chunkSize) / 32))
        var capacity = 64
        while capacity < wanted { capacity <<= 1 }
        ringCapacity = capacity
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

    /// Whether this is still the process's recording session. Sequentially consistent: read right after a
    /// thread's `busy` store, it pairs with `Recorder.finish`, which clears the number, then waits for `busy`.
    @inline(__always)
    var isLive: Bool { Recorder.liveSession.load(ordering: .sequentiallyConsistent) == number }

    /// Whether `record`'s task was spawned in this session.
    @inline(__always)
    func owns(_ record: TaskRecord) -> Bool { record.session == number }

    /// `task`'s id in this session's trace: 0 (no traced task) when there is none, or when it was spawned
    /// in an earlier session and so has no spawn in this trace.
    @inline(__always)
    func id(of task: TaskRef?) -> TaskID {
        guard let task, task.session == number else { return 0 }
        return task.id
    }

    // MARK: Buffers

    func register(_ buffer: EventBuffer) {
        buffers.withLock { $0.append(buffer) }
        buffersGeneration.add(1, ordering: .releasing)
    }

    /// Forgets buffers whose thread exited and that the writer has drained.
    func remove(_ gone: [EventBuffer]) {
        guard !gone.isEmpty else { return }
        buffers.withLock { list in list.removeAll { buffer in gone.contains { $0 === buffer } } }
        buffersGeneration.add(1, ordering: .releasing)
    }

    var allBuffers: [EventBuffer] { buffers.withLock { $0 } }

    // MARK: The writer's wake-up

    /// Asks the writer to drain now (a ring is half full, or waits for room).
    func wakeWriter() {
        guard writerWaiting.load(ordering: .relaxed) else { return }
        pthread_mutex_lock(mutex)
        wakeRequested = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    struct Work {
        var stop: Bool
        /// Flush requests seen: the writer acknowledges them with `flushed(upTo:)` after writing.
        var flushes: Int
    }

    /// The writer waits until `deadline` (monotonic ns) or a wake-up, stop or flush request.
    func waitForWork(deadline: UInt64) -> Work {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        writerWaiting.store(true, ordering: .relaxed)
        while !wakeRequested && !stopping && flushesRequested == flushesDone && MonotonicClock.now() < deadline {
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
        writerWaiting.store(false, ordering: .relaxed)
        wakeRequested = false
        return Work(stop: stopping, flushes: flushesRequested)
    }

    /// The writer wrote everything recorded before `count` flush requests were made.
    func flushed(upTo count: Int) {
        pthread_mutex_lock(mutex)
        if count > flushesDone { flushesDone = count }
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// Waits until the writer has written (or failed to write) every event recorded before this call, the
    /// partial chunk included.
    func flushAndWait() {
        pthread_mutex_lock(mutex)
        flushesRequested += 1
        let mine = flushesRequested
        pthread_cond_broadcast(changed)
        while flushesDone < mine && !stopping { pthread_cond_wait(changed, mutex) }
        pthread_mutex_unlock(mutex)
    }

    /// Asks the writer to write everything, the `close` record and stop.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }
}
