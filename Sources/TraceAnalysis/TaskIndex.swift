import TraceFormat

/// Task id → slot number, for `LiveTasks`: open addressing with linear probing and a multiplicative hash.
///
/// Task ids are small, mostly increasing integers and never 0, so 0 marks an empty bucket and one multiply
/// spreads them well; this costs a few instructions per lookup where `Dictionary`'s SipHash costs tens.
/// Deletion shifts later entries back (no tombstones), so the table stays short for long traces. Each bucket
/// holds its id and slot together (one cache line), in memory the index owns: no array uniqueness or bounds
/// checks on the way, which is why it cannot be copied (`LiveTasks.copy()` rebuilds one).
struct TaskIndex: ~Copyable {
    private struct Bucket {
        var id: TaskID
        var slot: Int32
    }

    private var buckets: UnsafeMutablePointer<Bucket>
    private var mask: Int
    private var shift: UInt64
    private(set) var count = 0

    init() { self.init(capacity: 64) }

    private init(capacity: Int) {
        buckets = .allocate(capacity: capacity)
        buckets.initialize(repeating: Bucket(id: 0, slot: 0), count: capacity)
        mask = capacity - 1
        shift = 64 - UInt64(capacity.trailingZeroBitCount)
    }

    deinit { buckets.deallocate() }

    @inline(__always)
    private func home(_ id: TaskID) -> Int { Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The slot of `id`, if present.
    @inline(__always)
    func slot(of id: TaskID) -> Int? {
        var i = home(id)
        while true {
            let key = buckets[i].id
            if key == id { return Int(buckets[i].slot) }
            if key == 0 { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// The bucket holding `id` (`found`), or the empty one where it goes (then `fill` it, with no other change
    /// in between): a lookup that may insert, in one probe. Grows first when one more entry would make the table
    /// over half full.
    @inline(__always)
    mutating func probe(_ id: TaskID) -> (bucket: Int, found: Bool) {
        assert(id != 0)
        if (count &+ 1) &* 2 > mask &+ 1 { grow() }
        var i = home(id)
        while true {
            let key = buckets[i].id
            if key == id { return (i, true) }
            if key == 0 { return (i, false) }
            i = (i &+ 1) & mask
        }
    }

    /// The slot in the bucket `probe` found.
    @inline(__always)
    func slot(atBucket bucket: Int) -> Int { Int(buckets[bucket].slot) }

    /// Adds `id` in the empty bucket `probe` returned.
    @inline(__always)
    mutating func fill(_ bucket: Int, id: TaskID, slot: Int) {
        buckets[bucket] = Bucket(id: id, slot: Int32(truncatingIfNeeded: slot))
        count &+= 1
    }

    /// Sets `id`'s slot, adding it when absent.
    mutating func set(_ id: TaskID, slot: Int) {
        precondition(id != 0)
        // At most half full: the runs that lookups and deletions walk stay short.
        if (count + 1) * 2 > mask + 1 { grow() }
        var i = home(id)
        while true {
            let key = buckets[i].id
            if key == id { buckets[i].slot = Int32(slot); return }
            if key == 0 {
                buckets[i] = Bucket(id: id, slot: Int32(slot))
                count += 1
                return
            }
            i = (i &+ 1) & mask
        }
    }

    /// Removes `id` and returns its slot.
    mutating func remove(_ id: TaskID) -> Int? {
        var i = home(id)
        while true {
            let key = buckets[i].id
            if key == 0 { return nil }
            if key == id { break }
            i = (i &+ 1) & mask
        }
        let removed = Int(buckets[i].slot)
        // Backward-shift deletion: move up any later entry of the run whose home is not between the hole and it.
        var hole = i
        var j = i
        while true {
            j = (j &+ 1) & mask
            let key = buckets[j].id
            if key == 0 { break }
            let h = home(key)
            let movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j)
            if movable {
                buckets[hole] = buckets[j]
                hole = j
            }
        }
        buckets[hole].id = 0
        count -= 1
        return removed
    }

    mutating func removeAll() { self = TaskIndex() }

    /// Calls `body` with every id and its slot.
    func forEach(_ body: (TaskID, Int) -> Void) {
        for i in 0...mask where buckets[i].id != 0 { body(buckets[i].id, Int(buckets[i].slot)) }
    }

    private mutating func grow() {
        var larger = TaskIndex(capacity: (mask + 1) * 2)
        forEach { larger.set($0, slot: $1) }
        self = larger
    }
}
