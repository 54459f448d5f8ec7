import TraceFormat

/// Ids of tasks that have ended, for `LiveTasks`, so that a record about a task after its `end` (a `cancel` that
/// raced the end in a recorder, a repeated `end` in a hand-built trace) is recognized as late instead of starting
/// a new task that never ends and then reads as leaked.
///
/// Memory is fixed, whatever the trace's length: a direct-mapped table of `blockCount` blocks, each the ended bits
/// of 64 consecutive ids and a tag saying which 64. An end replaces the block in its place when that held other
/// ids, so the table forgets; it never claims an id ended that did not. The format does not promise that ids
/// increase (`Docs/TraceFormat.md`), so nothing here relies on it; but both recorders allocate them 1, 2, 3 …,
/// and then an ended id is remembered until tasks about `blockCount × 64` (262,144) ids further on have ended.
/// A late record about a task the table has forgotten is read as before: a task seen without its spawn.
struct EndedTasks: ~Copyable {
    /// Blocks in the table: 64 KiB, allocated at the first end.
    static let blockCount = 4_096

    private struct Block {
        /// `id >> 6` of the ids in the block, or `empty`.
        var tag: UInt64
        var ended: UInt64
    }

    /// No id's block: ids are below 2^64, so their blocks are below 2^58.
    private static let empty = UInt64.max

    private var blocks: UnsafeMutablePointer<Block>?

    init() {}

    deinit { blocks?.deallocate() }

    /// A table that remembers the same ids.
    func copy() -> EndedTasks {
        var table = EndedTasks()
        if let blocks {
            let copied = UnsafeMutablePointer<Block>.allocate(capacity: Self.blockCount)
            copied.initialize(from: blocks, count: Self.blockCount)
            table.blocks = copied
        }
        return table
    }

    @inline(__always)
    private static func place(_ id: TaskID) -> (index: Int, tag: UInt64, bit: UInt64) {
        let tag = id >> 6
        return (Int(truncatingIfNeeded: tag) & (blockCount - 1), tag, 1 << (id & 63))
    }

    /// Remembers that `id` ended, forgetting the ids of another block in the same place.
    @inline(__always)
    mutating func insert(_ id: TaskID) {
        let blocks = self.blocks ?? allocate()
        let (index, tag, bit) = Self.place(id)
        if blocks[index].tag != tag { blocks[index] = Block(tag: tag, ended: 0) }
        blocks[index].ended |= bit
    }

    /// Whether `id` ended, as far as the table remembers.
    func contains(_ id: TaskID) -> Bool {
        guard let blocks else { return false }
        let (index, tag, bit) = Self.place(id)
        return blocks[index].tag == tag && blocks[index].ended & bit != 0
    }

    private mutating func allocate() -> UnsafeMutablePointer<Block> {
        let allocated = UnsafeMutablePointer<Block>.allocate(capacity: Self.blockCount)
        allocated.initialize(repeating: Block(tag: Self.empty, ended: 0), count: Self.blockCount)
        blocks = allocated
        return allocated
    }
}
