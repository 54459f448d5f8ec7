import TraceFormat

/// Task id → slot number, for `TaskTracker`: open addressing with linear probing and a multiplicative hash.
///
/// Task ids are small, mostly increasing integers and never 0, so 0 marks an empty bucket and one multiply
/// spreads them well; this costs a few instructions per lookup where `Dictionary`'s SipHash costs tens.
/// Deletion shifts later entries back (no tombstones), so the table stays short for long traces.
struct TaskIndex: Sendable {
    private var keys: [TaskID]
    private var values: [Int32]
    private var mask: Int
    private var shift: UInt64
    private(set) var count = 0

    init() {
        keys = [TaskID](repeating: 0, count: 64)
        values = [Int32](repeating: 0, count: 64)
        mask = 63
        shift = 64 - 6
    }

    @inline(__always)
    private func home(_ id: TaskID) -> Int { Int(truncatingIfNeeded: (id &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The slot of `id`, if present.
    @inline(__always)
    func slot(of id: TaskID) -> Int? {
        var i = home(id)
        while true {
            let key = keys[i]
            if key == id { return Int(values[i]) }
            if key == 0 { return nil }
            i = (i &+ 1) & mask
        }
    }

    /// Sets `id`'s slot, adding it when absent.
    mutating func set(_ id: TaskID, slot: Int) {
        precondition(id != 0)
        if (count + 1) * 4 > keys.count * 3 { grow() }
        var i = home(id)
        while true {
            let key = keys[i]
            if key == id { values[i] = Int32(slot); return }
            if key == 0 {
                keys[i] = id
                values[i] = Int32(slot)
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
            let key = keys[i]
            if key == 0 { return nil }
            if key == id { break }
            i = (i &+ 1) & mask
        }
        let removed = Int(values[i])
        // Backward-shift deletion: move up any later entry of the run whose home is not between the hole and it.
        var hole = i
        var j = i
        while true {
            j = (j &+ 1) & mask
            let key = keys[j]
            if key == 0 { break }
            let h = home(key)
            let movable = hole <= j ? (h <= hole || h > j) : (h <= hole && h > j)
            if movable {
                keys[hole] = key
                values[hole] = values[j]
                hole = j
            }
        }
        keys[hole] = 0
        count -= 1
        return removed
    }

    mutating func removeAll() { self = TaskIndex() }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        let size = keys.count * 2
        keys = [TaskID](repeating: 0, count: size)
        values = [Int32](repeating: 0, count: size)
        mask = size - 1
        shift = 64 - UInt64(size.trailingZeroBitCount)
        count = 0
        for (key, value) in zip(oldKeys, oldValues) where key != 0 { set(key, slot: Int(value)) }
    }
}
