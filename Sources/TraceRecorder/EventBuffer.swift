#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCycleCounter
import Synchronization
import TraceFormat

/// One recording thread's events for one session: a ring that only this thread writes and only the writer
/// thread reads, so recording takes no lock shared with other threads.
///
/// An event is stored as a `TraceEvent` whose time is a raw clock stamp (`EventClock.stamp`) and whose string
/// fields are `StringInterner` ids; the writer merges the rings by stamp, converts the stamps to times and the
/// ids to the file's string ids, and encodes (`Session`). A spawn is one entry: its `site` location rides in the
/// high bits of the `how` field and the writer splits it into the `spawn` and `site` records.
///
/// The merge horizon: a thread sets `busy` (a sequentially consistent store) before it reads the clock and clears
/// it once the event is published. The writer reads its own stamp, then every `busy`: a thread seen idle can only
/// publish stamps later than the writer's, and a busy one nothing earlier than its last published stamp. So
/// the writer never writes an event while an earlier one may still arrive: file order stays time order.
final class EventBuffer: @unchecked Sendable {
    let session: LiveSession
    private let slots: UnsafeMutablePointer<TraceEvent>
    let capacity: Int
    private let mask: Int

    /// Entries published by this thread (a count, never wrapped: slot = index & mask). Written by the owner.
    let head = Atomic<Int>(0)
    /// Entries the writer has taken. Written by the writer only.
    let tail = Atomic<Int>(0)
    /// Set while the owner is between its clock read and publishing the event.
    let busy = Atomic<Bool>(false)
    /// Events this thread could not record because its ring was full (`.drop`). Written by the owner only.
    let dropped = Atomic<UInt64>(0)
    /// The owning thread exited: once drained, the writer forgets the buffer.
    let exited = Atomic<Bool>(false)
    /// A stamp read when the buffer was made: no event of this thread is earlier.
    let createdStamp: UInt64

    // Owner-only state.
    private var cachedTail = 0
    private var lastStamp: UInt64 = 0
    /// The last name seen in each slot, by a cheap hash of its bytes (confirmed with `==`): most events repeat
    /// a few names, and a dictionary's SipHash cost more than the rest of such an event.
    private var recentStrings = [(text: String, id: StringID)?](repeating: nil, count: 256)
    private var typeNameIDs: [ObjectIdentifier: StringID] = [:]
    /// The last error type looked up: cancelled tasks all end with `CancellationError`.
    private var lastType: (type: ObjectIdentifier, id: StringID)?
    private var lastSite: (key: CallSite.Key, ids: (name: StringID, location: StringID))?
    /// The default name and the location text of each call site that started a task, formatted once.
    private var siteIDs: [CallSite.Key: (name: StringID, location: StringID)] = [:]

    // Writer-only state.
    var reportedDrops: UInt64 = 0

    init(session: LiveSession) {
        self.session = session
        capacity = session.ringCapacity
        mask = capacity - 1
        slots = .allocate(capacity: capacity)
        createdStamp = EventClock.stamp(usesCycles: session.usesCycles)
        lastStamp = createdStamp
    }

    deinit { slots.deallocate() }

    // MARK: Owner side

    /// Waits for (`.block`) or gives up on (`.drop`, counted) a free slot. False when the event is not recorded.
    @inline(__always)
    private func reserve() -> Bool {
        let head = self.head.load(ordering: .relaxed)
        if head &- cachedTail < capacity { return true }
        return reserveSlow(head)
    }

    @inline(never)
    private func reserveSlow(_ head: Int) -> Bool {
        cachedTail = tail.load(ordering: .acquiring)
        if head &- cachedTail < capacity { return true }
        if session.policy == .drop {
            dropped.store(dropped.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
            session.wakeWriter()
            return false
        }
        var waits = 0
        while head &- cachedTail >= capacity {
            // The session ended (or a write error stopped it): nobody will drain this ring any more.
            guard session.isLive else { return false }
            session.wakeWriter()
            if waits < 50 { sched_yield() } else { usleep(50) }
            waits += 1
            cachedTail = tail.load(ordering: .acquiring)
        }
        return true
    }

    /// Opens the event's window: after this the writer holds back what is later than this thread's last stamp.
    /// False (window closed again) when the session is no longer live.
    @inline(__always)
    private func begin() -> Bool {
        busy.store(true, ordering: .sequentiallyConsistent)
        if session.isLive { return true }
        busy.store(false, ordering: .releasing)
        return false
    }

    @inline(__always)
    private func stamp() -> UInt64 {
        let stamp = EventClock.eventStamp(usesCycles: session.usesCycles)
        // The thread may have moved to another CPU; the counters agree, but never hand out an earlier stamp.
        lastStamp = stamp > lastStamp ? stamp : lastStamp
        return lastStamp
    }

    /// Publishes `event` (its time already a stamp) and closes the window.
    @inline(__always)
    private func publish(_ event: TraceEvent) {
        let head = self.head.load(ordering: .relaxed)
        (slots + (head & mask)).initialize(to: event)
        self.head.store(head &+ 1, ordering: .releasing)
        busy.store(false, ordering: .releasing)
        // Wake the writer twice per ring, well before it is full.
        if (head &+ 1) & (capacity >> 1 &- 1) == 0 { session.wakeWriter() }
    }

    /// Records `event`, its time set to the clock now. False when it was not recorded (ring full under `.drop`,
    /// or the session ended).
    @inline(__always)
    @discardableResult
    func record(_ event: TraceEvent) -> Bool {
        guard reserve(), begin() else { return false }
        var event = event
        event.time = stamp()
        publish(event)
        return true
    }

    /// Records `task`'s cancel unless one was already recorded or the task ended, deciding under the same
    /// window: the stamp is read before the flag is set, so a cancel that wins against the end is also earlier.
    @inline(__always)
    func recordCancel(of task: TaskRecord, by: TaskID, reason: CancelReason) -> Bool {
        guard reserve(), begin() else { return false }
        let time = stamp()
        guard task.markCancelled() else {
            busy.store(false, ordering: .releasing)
            return false
        }
        publish(.cancel(time: time, task: task.id, by: by, reason: reason))
        return true
    }

    /// Records `task`'s end once: the flag is set before the stamp is read, so a cancel that lost to the end
    /// records nothing, and one that won is earlier.
    @inline(__always)
    func recordEnd(of task: TaskRecord, outcome: Outcome, error: StringID) {
        guard reserve(), begin() else { return }
        guard task.markEnded() else {
            busy.store(false, ordering: .releasing)
            return
        }
        publish(.end(time: stamp(), task: task.id, outcome: outcome, error: error))
    }

    // MARK: Owner side: names

    /// The interned id of `text` (0 for the empty string), through this thread's cache.
    @inline(__always)
    func string(_ text: String) -> StringID {
        if text.isEmpty { return 0 }
        let slot = Self.recentSlot(of: text)
        if let recent = recentStrings[slot], recent.text == text { return recent.id }
        let id = session.strings.id(of: text)
        recentStrings[slot] = (text, id)
        return id
    }

    /// `recentStrings`' slot for `text`: a multiply-xor over its first 32 UTF-8 bytes, much cheaper than the
    /// dictionary's SipHash for the short names that events repeat.
    @inline(__always)
    private static func recentSlot(of text: String) -> Int {
        let hash = text.utf8.withContiguousStorageIfAvailable { bytes -> UInt64 in
            var hash = UInt64(truncatingIfNeeded: bytes.count) &* 0x9E37_79B9_7F4A_7C15
            for byte in bytes.prefix(32) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            return hash
        } ?? 0
        return Int(truncatingIfNeeded: hash >> 40) & 255
    }

    /// The id of an error type's name, formatted only the first time this thread sees the type.
    func typeName(of error: any Error) -> StringID {
        let type = Swift.type(of: error)
        if let lastType, lastType.type == ObjectIdentifier(type) { return lastType.id }
        let id: StringID
        if let known = typeNameIDs[ObjectIdentifier(type)] {
            id = known
        } else {
            id = string(String(describing: type))
            typeNameIDs[ObjectIdentifier(type)] = id
        }
        lastType = (ObjectIdentifier(type), id)
        return id
    }

    /// The ids of `site`'s default task name and location text, formatted only the first time it is seen here.
    func site(_ site: CallSite) -> (name: StringID, location: StringID) {
        let key = site.key
        if let lastSite, lastSite.key == key { return lastSite.ids }
        let ids: (name: StringID, location: StringID)
        if let known = siteIDs[key] {
            ids = known
        } else {
            ids = (name: string(site.defaultName), location: string(site.location))
            siteIDs[key] = ids
        }
        lastSite = (key, ids)
        return ids
    }

    // MARK: Writer side

    /// The entry at index `index` (published, not yet taken).
    @inline(__always)
    func entry(_ index: Int) -> TraceEvent { slots[index & mask] }

    /// No event of this thread can arrive with a stamp earlier than this: its last published stamp, or the
    /// buffer's creation. Valid while the owner is busy with its next event.
    func floorStamp(head: Int) -> UInt64 {
        head > 0 ? slots[(head &- 1) & mask].time : createdStamp
    }
}

// MARK: The calling thread's buffer

/// The calling thread's buffer, kept in a pthread key so that its destructor can retire it at thread exit.
enum ThreadBuffers {
    static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            let buffer = Unmanaged<EventBuffer>.fromOpaque(pointer)
            buffer._withUnsafeGuaranteedRef { $0.exited.store(true, ordering: .releasing) }
            buffer.release()
        }
        return key
    }()

    /// Runs `body` with this thread's buffer for the live session (registering one the first time), or returns
    /// nil when nothing records.
    @inline(__always)
    @discardableResult
    static func withCurrent<R>(_ body: (EventBuffer) -> R) -> R? {
        guard tracingEnabled.load(ordering: .relaxed) else { return nil }
        if let pointer = pthread_getspecific(key) {
            let buffer = Unmanaged<EventBuffer>.fromOpaque(pointer)
            let live = buffer._withUnsafeGuaranteedRef { $0.session.number == Recorder.liveSession.load(ordering: .relaxed) }
            if live { return buffer._withUnsafeGuaranteedRef(body) }
        }
        guard let buffer = Recorder.registerBuffer() else { return nil }
        if let old = pthread_getspecific(key) {
            let previous = Unmanaged<EventBuffer>.fromOpaque(old)
            previous._withUnsafeGuaranteedRef { $0.exited.store(true, ordering: .releasing) }
            previous.release()
        }
        pthread_setspecific(key, Unmanaged.passRetained(buffer).toOpaque())
        return body(buffer)
    }
}
