import TraceFormat

/// The live tasks of a `TaskTracker`: `CompactTask`s in slots that are reused once a task ends, found by id through
/// a `TaskIndex`.
///
/// A class over raw memory, so that the tracker checks once per event that it is the only owner (and copies
/// otherwise: the tracker is a value) and then reads and writes slots through a pointer. Kept in arrays, every
/// write to a slot checked the array's uniqueness and bounds again, which was a fifth of the tracker's work.
/// Sendable as an array's storage is: the tracker changes a table only when it holds the only reference.
final class LiveTasks: @unchecked Sendable {
    /// `capacity` slots, the first `used` of them initialized. Moves when the table grows (`place`).
    @exclusivity(unchecked) private(set) var tasks: UnsafeMutablePointer<CompactTask>
    @exclusivity(unchecked) private var capacity: Int
    @exclusivity(unchecked) private var used = 0
    /// Slots whose tasks have ended, as a stack: a new task reuses the most recently freed slot, still in cache.
    @exclusivity(unchecked) private var free: UnsafeMutablePointer<Int32>
    @exclusivity(unchecked) private var freeCount = 0
    @exclusivity(unchecked) private var index = TaskIndex()
    /// Tasks that have ended, as far as a fixed-size table remembers them.
    @exclusivity(unchecked) private var ended = EndedTasks()

    init(capacity: Int = 64) {
        assert(_isPOD(CompactTask.self), "slots are written without initializing them first")
        self.capacity = capacity
        tasks = .allocate(capacity: capacity)
        free = .allocate(capacity: capacity)
    }

    deinit {
        tasks.deinitialize(count: used)
        tasks.deallocate()
        free.deallocate()
    }

    /// Tasks in the index.
    var count: Int { index.count }

    /// An independent table with the same tasks in the same slots.
    func copy() -> LiveTasks {
        let table = LiveTasks(capacity: capacity)
        table.tasks.initialize(from: tasks, count: used)
        table.used = used
        table.free.initialize(from: free, count: freeCount)
        table.freeCount = freeCount
        index.forEach { table.index.set($0, slot: $1) }
        table.ended = ended.copy()
        return table
    }

    @inline(__always)
    func slot(of id: TaskID) -> Int? { index.slot(of: id) }

    /// Removes `id` from the index and returns its slot, which stays occupied until `release`.
    func remove(_ id: TaskID) -> Int? { index.remove(id) }

    /// Remembers that the task `id` ended (see `EndedTasks` for how long).
    @inline(__always)
    func markEnded(_ id: TaskID) { ended.insert(id) }

    /// Whether the task `id` is known to have ended. Ask only about ids that are not live.
    func hasEnded(_ id: TaskID) -> Bool { ended.contains(id) }

    /// Puts `task` in a free slot without indexing it.
    func place(_ task: CompactTask) -> Int32 {
        let slot = reserve()
        tasks[Int(slot)] = task
        return slot
    }

    /// A free slot, for the caller to write a task into: `CompactTask` is a trivial type (plain values), so a
    /// slot never used before is written as any other.
    @inline(__always)
    private func reserve() -> Int32 {
        if freeCount > 0 {
            freeCount &-= 1
            return free[freeCount]
        }
        if used == capacity { grow() }
        used &+= 1
        return Int32(truncatingIfNeeded: used &- 1)
    }

    /// The slot for a spawn of `id`: the live task's (`existing`), or a free slot now indexed by `id`, which the
    /// caller fills; nil when `id` is not live and `limit` tasks are. One index probe either way.
    @inline(__always)
    func spawnSlot(_ id: TaskID, limit: Int) -> (slot: Int, existing: Bool)? {
        let (bucket, found) = index.probe(id)
        if found { return (index.slot(atBucket: bucket), true) }
        guard index.count < limit else { return nil }
        let slot = Int(reserve())
        index.fill(bucket, id: id, slot: slot)
        return (slot, false)
    }

    /// Puts `task` in a free slot and indexes it by its id.
    func insert(_ task: CompactTask) -> Int {
        let slot = Int(place(task))
        index.set(task.id, slot: slot)
        return slot
    }

    /// Frees the slot of a task that has been removed from the index (or never was in it).
    func release(_ slot: Int32) {
        free[freeCount] = slot
        freeCount += 1
    }

    /// The slots of the indexed tasks.
    func indexedSlots() -> [Int] {
        var slots: [Int] = []
        slots.reserveCapacity(index.count)
        index.forEach { _, slot in slots.append(slot) }
        return slots
    }

    private func grow() {
        let larger = capacity * 2
        let moved = UnsafeMutablePointer<CompactTask>.allocate(capacity: larger)
        moved.moveInitialize(from: tasks, count: used)
        tasks.deallocate()
        tasks = moved
        let freeMoved = UnsafeMutablePointer<Int32>.allocate(capacity: larger)
        freeMoved.moveInitialize(from: free, count: freeCount)
        free.deallocate()
        free = freeMoved
        capacity = larger
    }
}
