import TraceFormat

/// Every task of a trace in about 40 bytes (id, parent, name, begin, end, outcome, the cancel that stood), in order
/// of first appearance, and the full `TaskLifecycle` of only some of them (`details`).
///
/// A timeline of a million tasks draws a few dozen lanes: it needs every task's place in the tree and its times to
/// group and aggregate, but the full lifecycle only of the tasks drawn in a lane of their own. Keeping every
/// lifecycle cost ~400 bytes a task (Docs/Performance.md, "Timeline"). Stored as parallel arrays, without
/// references, so a million tasks hold no million allocations.
public struct TaskOutline: Sendable {
    public private(set) var ids: [TaskID] = []
    /// Each task's parent as an index into the outline, or -1: the last task with the parent's id, as a dictionary
    /// from id to index would give (none when that is the task itself). Set by `finish`.
    public private(set) var parentIndices: [Int32] = []
    /// Index into `names` of each task's name.
    public private(set) var nameIndices: [Int32] = []
    /// Each distinct name once.
    public private(set) var names: [String] = []
    /// `spawnTime ?? firstSeen`: where the task's lane begins.
    public private(set) var begins: [UInt64] = []
    /// The end's time; meaningful only when the task ended (`outcome(of:)` is not nil).
    public private(set) var ends: [UInt64] = []
    @usableFromInline private(set) var outcomeCodes: [UInt8] = []
    /// Index into the standing cancels' columns (`cancelTimes`, `cancelBy`, `cancelStringSet`), or -1: the task's
    /// `effectiveCancel`. Columns, not one array of structs, so padding costs nothing.
    @usableFromInline private(set) var cancelIndices: [Int32] = []
    @usableFromInline private(set) var cancelTimes: [UInt64] = []
    @usableFromInline private(set) var cancelBy: [TaskID] = []
    /// Each standing cancel's strings, as an index into `cancelStringSets`: a trace has few distinct ones (canceller
    /// names × messages × reasons), and 4 bytes a cancel instead of 12 is 2.7 MB of a million-task picture's peak.
    private var cancelStringSet: [Int32] = []
    private var cancelStringSets: [CancelStrings] = []
    private var cancelStringSetIndex: [CancelStrings: Int32] = [:]
    /// Whether `cancelBy` and `cancelStringSet` are kept (`OutlineRetention.cancelDetails`).
    public private(set) var hasCancelDetails = true
    /// Full lifecycles, by task index: those the analysis was asked to keep (`OutlineRetention`), and those
    /// `supply(_:)` added.
    public private(set) var details: [Int: TaskLifecycle] = [:]
    /// Finds tasks by id; made by `finish`.
    public private(set) var lookup = TaskIDLookup([])

    /// A standing cancel's strings, as indices into `names`.
    struct CancelStrings: Sendable, Hashable {
        /// -1 when the canceller's name was not known.
        var byName: Int32
        var message: Int32
        var reason: CancelReason
    }

    @usableFromInline static let running: UInt8 = .max
    /// An entry reserved at a spawn and not filled (the task was left out): removed by `finish`.
    static let unfilled: UInt8 = .max - 1
    private var nameIndexByText: [String: Int32] = [:]
    /// Parent ids while building; `finish` turns them into `parentIndices`.
    private var parentIDs: [TaskID] = []
    /// First-event times that differ from `begins` (none from `TraceAnalyzer`, whose tasks begin at their first
    /// event), for the order `finish` puts the tasks in.
    private var firstSeenExceptions: [Int: UInt64] = [:]

    public init() {}

    /// The outline of `tasks` (in the order given), every lifecycle kept as its detail.
    public init(_ tasks: [TaskLifecycle]) {
        for index in tasks.indices {
            set(reserveEntry(id: tasks[index].id, begin: 0), tasks[index], nameIndex: nameIndex(of: tasks[index].name))
            details[index] = tasks[index]
        }
        nameIndexByText = [:]
        firstSeenExceptions = [:]
        resolveParents()
    }

    public var count: Int { ids.count }

    @inlinable
    public func name(of index: Int) -> String { names[Int(nameIndices[index])] }

    /// The parent's id when the parent is in the outline (and `dropParents` was not called), else 0.
    public func parent(of index: Int) -> TaskID {
        index >= parentIndices.count || parentIndices[index] < 0 ? 0 : ids[Int(parentIndices[index])]
    }

    /// Frees `parentIndices`, once a caller has built what it needs from them (a timeline's forest).
    public mutating func dropParents() { parentIndices = [] }

    /// How the task ended; nil while it was still running at the end of the trace.
    @inlinable
    public func outcome(of index: Int) -> Outcome? {
        let code = outcomeCodes[index]
        return code == Self.running ? nil : Outcome(rawValue: code)
    }

    /// The end's time, nil while still running.
    @inlinable
    public func end(of index: Int) -> UInt64? { outcomeCodes[index] == Self.running ? nil : ends[index] }

    /// The cancel request that stood (`TaskLifecycle.effectiveCancel`), if any; without `hasCancelDetails` only
    /// its time (an unknown canceller, reason and message).
    public func standingCancel(of index: Int) -> CancelRequest? {
        let at = Int(cancelIndices[index])
        guard at >= 0 else { return nil }
        guard hasCancelDetails else { return CancelRequest(time: cancelTimes[at], by: 0, byName: nil, reason: .unknown, message: "") }
        let strings = cancelStringSets[Int(cancelStringSet[at])]
        return CancelRequest(time: cancelTimes[at], by: cancelBy[at],
                             byName: strings.byName < 0 ? nil : names[Int(strings.byName)],
                             reason: strings.reason, message: names[Int(strings.message)])
    }

    /// The time of the cancel request that stood, if any (`standingCancel(of:)` without building the request).
    @inlinable
    public func standingCancelTime(of index: Int) -> UInt64? {
        let at = cancelIndices[index]
        return at < 0 ? nil : cancelTimes[Int(at)]
    }

    /// Who made the cancel request that stood (0 when unknown or none).
    @inlinable
    public func standingCanceller(of index: Int) -> TaskID {
        let at = cancelIndices[index]
        return at < 0 || !hasCancelDetails ? 0 : cancelBy[Int(at)]
    }

    /// `TaskLifecycle.label` of the task.
    public func label(of index: Int) -> String { TaskLifecycle.label(name: name(of: index), id: ids[index]) }

    /// The task's full lifecycle when kept; otherwise one rebuilt from the outline (no catches, cleanups, marks,
    /// strings of its cancel, parent only when in the outline), which a caller that draws it should have avoided
    /// by `supply`ing the detail.
    public func lifecycle(of index: Int) -> TaskLifecycle {
        if let kept = details[index] { return kept }
        var task = TaskLifecycle(id: ids[index], firstSeen: begins[index])
        task.parent = parent(of: index)
        task.name = name(of: index)
        task.spawnTime = begins[index]
        if let cancel = standingCancel(of: index) { task.cancels = [cancel] }
        if let outcome = outcome(of: index) { task.end = TaskEnd(time: ends[index], outcome: outcome, errorType: "") }
        return task
    }

    /// Adds full lifecycles found by a second read (`TaskKeeping.only`): each goes to the task of its id and begin.
    public mutating func supply(_ lifecycles: [TaskLifecycle], for indices: [Int]) {
        var wanted: [TaskID: [Int]] = [:]
        for index in indices { wanted[ids[index], default: []].append(index) }
        for task in lifecycles {
            guard let candidates = wanted[task.id] else { continue }
            let begin = task.spawnTime ?? task.firstSeen
            if let index = candidates.first(where: { begins[$0] == begin }) { details[index] = task }
        }
    }

    // MARK: Building

    mutating func nameIndex(of text: String) -> Int32 {
        if let known = nameIndexByText[text] { return known }
        let index = Int32(names.count)
        names.append(text)
        nameIndexByText[text] = index
        return index
    }

    /// Appends an entry to fill later (`set`), so entries sit in the order they were reserved: at each spawn,
    /// which is usually the final order. Until filled it is `unfilled`.
    mutating func reserveEntry(id: TaskID, begin: UInt64) -> Int {
        ids.append(id)
        parentIDs.append(0)
        nameIndices.append(0)
        begins.append(begin)
        ends.append(0)
        outcomeCodes.append(Self.unfilled)
        cancelIndices.append(-1)
        return ids.count - 1
    }

    /// Moves a reserved entry to a task spawned again with the same id (the later spawn replaces the task).
    mutating func reuseEntry(_ index: Int, id: TaskID, begin: UInt64) {
        ids[index] = id
        begins[index] = begin
    }

    private mutating func setCancel(_ index: Int, time: UInt64, by: TaskID, strings: CancelStrings) {
        cancelIndices[index] = Int32(cancelTimes.count)
        cancelTimes.append(time)
        guard hasCancelDetails else { return }
        cancelBy.append(by)
        // Often the same as the cancel before: no hashing then.
        if let last = cancelStringSet.last, cancelStringSets[Int(last)] == strings { return cancelStringSet.append(last) }
        if let known = cancelStringSetIndex[strings] { return cancelStringSet.append(known) }
        cancelStringSetIndex[strings] = Int32(cancelStringSets.count)
        cancelStringSet.append(Int32(cancelStringSets.count))
        cancelStringSets.append(strings)
    }

    /// Fills entry `index` from a compact task (its canceller's name and cancel message as indices into `names`).
    mutating func set(_ index: Int, _ task: borrowing CompactTask, nameIndex: Int32, cancelByName: Int32, cancelMessage: Int32) {
        ids[index] = task.id
        parentIDs[index] = task.parent
        nameIndices[index] = nameIndex
        begins[index] = task.hasSpawn ? task.spawnTime : task.firstSeen
        if begins[index] != task.firstSeen { firstSeenExceptions[index] = task.firstSeen }
        ends[index] = task.endTime
        outcomeCodes[index] = task.hasEnd ? task.outcome.rawValue : Self.running
        if task.hasEffectiveCancel {
            setCancel(index, time: task.cancelTime, by: task.cancelBy,
                      strings: CancelStrings(byName: cancelByName, message: cancelMessage, reason: task.cancelReason))
        }
    }

    /// Fills entry `index` from a full lifecycle.
    mutating func set(_ index: Int, _ task: TaskLifecycle, nameIndex: Int32) {
        ids[index] = task.id
        parentIDs[index] = task.parent
        nameIndices[index] = nameIndex
        begins[index] = task.spawnTime ?? task.firstSeen
        if begins[index] != task.firstSeen { firstSeenExceptions[index] = task.firstSeen }
        ends[index] = task.end?.time ?? 0
        outcomeCodes[index] = task.end?.outcome.rawValue ?? Self.running
        if let cancel = task.effectiveCancel {
            let strings = CancelStrings(byName: cancel.byName.map { self.nameIndex(of: $0) } ?? -1,
                                        message: self.nameIndex(of: cancel.message), reason: cancel.reason)
            setCancel(index, time: cancel.time, by: cancel.by, strings: strings)
        }
    }

    mutating func keepDetail(_ task: TaskLifecycle, at index: Int) { details[index] = task }

    /// Before any entry is filled.
    mutating func keepsCancelDetails(_ keeps: Bool) { hasCancelDetails = keeps }

    /// Drops unfilled entries, puts the tasks in the order `TraceAnalyzer` gives kept tasks (by first appearance,
    /// then id, then the order their lives came in, which for one id is the order they were filled), and resolves
    /// parents to indices. Entries reserved at spawns are usually in that order already: then this only checks it.
    mutating func finish() {
        nameIndexByText = [:]
        cancelStringSetIndex = [:]
        removeUnfilled()
        putInOrder()
        resolveParents()
    }

    /// Copies entry `source` over entry `target`, every column (the standing cancel moves with its index).
    private mutating func moveEntry(from source: Int, to target: Int) {
        ids[target] = ids[source]
        parentIDs[target] = parentIDs[source]
        nameIndices[target] = nameIndices[source]
        begins[target] = begins[source]
        ends[target] = ends[source]
        outcomeCodes[target] = outcomeCodes[source]
        cancelIndices[target] = cancelIndices[source]
    }

    /// Re-keys `details` and `firstSeenExceptions` after entries moved.
    private mutating func rekey(_ newIndex: (Int) -> Int) {
        if !details.isEmpty { details = Dictionary(uniqueKeysWithValues: details.map { (newIndex($0.key), $0.value) }) }
        if !firstSeenExceptions.isEmpty {
            firstSeenExceptions = Dictionary(uniqueKeysWithValues: firstSeenExceptions.map { (newIndex($0.key), $0.value) })
        }
    }

    private mutating func removeUnfilled() {
        let n = ids.count
        var removed: [Int] = []
        for index in 0..<n where outcomeCodes[index] == Self.unfilled { removed.append(index) }
        guard !removed.isEmpty else { return }
        // Column by column, the runs between removed entries moved down: one unfilled entry near the start moves
        // every entry (entry by entry, all seven columns at once, was 2 % of a million-task timeline's profile).
        func compact<Value>(_ column: inout [Value]) {
            column.withUnsafeMutableBufferPointer { column in
                var kept = removed[0]
                for (k, start) in removed.enumerated() {
                    let end = k + 1 < removed.count ? removed[k + 1] : n
                    for index in start + 1 ..< end {
                        column[kept] = column[index]
                        kept += 1
                    }
                }
            }
            column.removeLast(removed.count)
        }
        compact(&ids)
        compact(&parentIDs)
        compact(&nameIndices)
        compact(&begins)
        compact(&ends)
        compact(&outcomeCodes)
        compact(&cancelIndices)
        // An entry moves down by the number of removed entries before it (none is itself removed: only filled
        // entries have details).
        rekey { index in
            var low = 0, high = removed.count
            while low < high {
                let mid = (low + high) / 2
                if removed[mid] < index { low = mid + 1 } else { high = mid }
            }
            return index - low
        }
    }

    private func firstSeen(_ index: Int) -> UInt64 { firstSeenExceptions[index] ?? begins[index] }

    private mutating func putInOrder() {
        let n = ids.count
        func inOrder(_ a: Int, _ b: Int) -> Bool {
            if firstSeenExceptions.isEmpty { return (begins[a], ids[a], a) < (begins[b], ids[b], b) }
            return (firstSeen(a), ids[a], a) < (firstSeen(b), ids[b], b)
        }
        guard (1..<max(n, 1)).contains(where: { inOrder($0, $0 - 1) }) else { return }
        var order = Array(0..<Int32(n))
        order.sort { inOrder(Int($0), Int($1)) }
        // In place, one cycle of the permutation at a time (a copy of each column would double the peak).
        var done = [Bool](repeating: false, count: n)
        for start in 0..<n where !done[start] {
            var position = start
            let saved = (ids[start], parentIDs[start], nameIndices[start], begins[start], ends[start], outcomeCodes[start],
                         cancelIndices[start])
            while true {
                done[position] = true
                let source = Int(order[position])
                if source == start { break }
                moveEntry(from: source, to: position)
                position = source
            }
            (ids[position], parentIDs[position], nameIndices[position], begins[position], ends[position],
             outcomeCodes[position], cancelIndices[position]) = saved
        }
        done = []
        if !details.isEmpty || !firstSeenExceptions.isEmpty {
            var newIndex = [Int32](repeating: 0, count: n)
            for i in 0..<n { newIndex[Int(order[i])] = Int32(i) }
            rekey { Int(newIndex[$0]) }
        }
    }

    private mutating func resolveParents() {
        let n = ids.count
        lookup = TaskIDLookup(ids)
        var parents = [Int32](repeating: -1, count: n)
        for index in 0..<n {
            let parentID = parentIDs[index]
            if parentID != 0, let parent = lookup.last(parentID), parent != index { parents[index] = Int32(parent) }
        }
        parentIDs = []
        parentIndices = parents
    }
}

/// Task indices by id, without a dictionary: the ids themselves when they increase (both recorders number tasks
/// 1, 2, 3 … and the outline is in order of appearance), else a sorted permutation; binary search either way, or
/// none when the ids are consecutive.
public struct TaskIDLookup: Sendable {
    private let ids: [TaskID]
    /// Indices sorted by (id, index); nil when `ids` is already strictly increasing.
    private let sorted: [Int32]?
    /// `ids[i] == ids[0] + i` for every i.
    private let consecutive: Bool

    public init(_ ids: [TaskID]) {
        self.ids = ids
        var increasing = true, consecutive = true
        for i in ids.indices.dropFirst() where ids[i] != ids[i - 1] &+ 1 {
            consecutive = false
            if ids[i] <= ids[i - 1] {
                increasing = false
                break
            }
        }
        self.consecutive = consecutive && increasing
        sorted = increasing ? nil : (0..<Int32(ids.count)).sorted { (ids[Int($0)], $0) < (ids[Int($1)], $1) }
    }

    private func id(at position: Int) -> TaskID { ids[sorted.map { Int($0[position]) } ?? position] }

    /// The task index at a position of `positions(of:)`.
    public func index(at position: Int) -> Int { sorted.map { Int($0[position]) } ?? position }

    /// Positions (for `index(at:)`) of the tasks with this id, in index order.
    public func positions(of id: TaskID) -> Range<Int> {
        if consecutive {
            guard let first = ids.first, id >= first, id - first < UInt64(ids.count) else { return 0..<0 }
            let position = Int(id - first)
            return position..<position + 1
        }
        var low = 0, high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if self.id(at: mid) < id { low = mid + 1 } else { high = mid }
        }
        var end = low
        while end < ids.count && self.id(at: end) == id { end += 1 }
        return low..<end
    }

    /// Every index with this id, in order.
    public func all(_ id: TaskID) -> [Int] { positions(of: id).map(index(at:)) }

    /// The last index with this id.
    public func last(_ id: TaskID) -> Int? {
        let found = positions(of: id)
        return found.isEmpty ? nil : index(at: found.upperBound - 1)
    }
}

/// Which tasks' full lifecycles an analysis that builds a `TaskOutline` keeps.
public struct OutlineRetention: Sendable {
    /// Keep the first this many tasks spawned under one parent with one name (the ones a timeline draws in lanes
    /// of their own when it does not collapse them); `.max` keeps every lifecycle.
    public var perSiblingName: Int
    /// Stop keeping by `perSiblingName` after this many, so memory stays bounded.
    public var maxKept: Int
    /// Always keep these (a timeline's focus).
    public var ids: Set<TaskID>
    public var names: Set<String>
    /// Keep who made each standing cancel, its reason and message (pictures' tooltips and cancel arrows), not only
    /// its time (all a text timeline draws of a task not drawn alone).
    public var cancelDetails: Bool

    public init(perSiblingName: Int, maxKept: Int = 20_000, ids: Set<TaskID> = [], names: Set<String> = [],
                cancelDetails: Bool = true) {
        self.perSiblingName = perSiblingName
        self.maxKept = maxKept
        self.ids = ids
        self.names = names
        self.cancelDetails = cancelDetails
    }
}

/// What an analysis keeps of the tasks besides findings and stats.
public enum TaskKeeping: Sendable {
    case none
    /// Every lifecycle in `AnalysisReport.tasks`.
    case all
    /// `AnalysisReport.outline`, with the full lifecycles the retention asks for.
    case outline(OutlineRetention)
    /// Only the lifecycles of these ids in `AnalysisReport.tasks`.
    case only(Set<TaskID>)
}

/// Builds a `TaskOutline` while `TraceAnalyzer` reads: chooses at each spawn whether the task's full lifecycle
/// will be kept and reserves its outline entry there (so entries come in order of appearance), and fills the entry
/// when the task ends.
///
/// What it notes at a spawn (the entry, whether the lifecycle is kept) sits in arrays indexed by the tracker's
/// slot of the live task, not in a dictionary by id: slots are few (the peak of live tasks) and reused.
struct OutlineCollector {
    private(set) var outline = TaskOutline()
    let retention: OutlineRetention
    /// False for `TaskKeeping.only`: the chosen lifecycles go to `AnalysisReport.tasks`, nothing else is kept.
    let buildsOutline: Bool
    let maxTasks: Int

    private struct SiblingKey: Hashable {
        var parent: TaskID
        var name: StringID
    }
    private var siblingCounts: [SiblingKey: Int] = [:]
    private var chosenCount = 0
    /// Tasks given an entry (the first `maxTasks` to end, as `TraceAnalyzer` keeps lifecycles).
    private var admitted = 0
    /// By slot: the live task's reserved entry (-1: none), and whether its lifecycle is kept.
    private var entryOfSlot: [Int32] = []
    private var keptOfSlot: [Bool] = []
    /// Tasks alive when the trace ended, by id: what `entryOfSlot` and `keptOfSlot` said (`noteLive`).
    private var liveAtEnd: [TaskID: (entry: Int32, kept: Bool)] = [:]
    private var nameIndexByString: [StringID: Int32] = [:]
    /// `nameIndexByString` for ids the string table holds, by id (-1: not yet).
    private var nameIndexOfString: [Int32] = []
    private var nameMatchesByString: [StringID: Bool] = [:]

    init(retention: OutlineRetention, buildsOutline: Bool, maxTasks: Int) {
        self.retention = retention
        self.buildsOutline = buildsOutline
        self.maxTasks = min(maxTasks, Int(Int32.max) / 2)
        outline.keepsCancelDetails(retention.cancelDetails)
    }

    /// A spawn, folded: the task is live in `slot`.
    mutating func noteSpawn(_ event: TraceEvent, slot: Int, strings: StringTable) {
        if slot >= entryOfSlot.count {
            entryOfSlot.append(contentsOf: repeatElement(-1, count: slot + 1 - entryOfSlot.count))
            keptOfSlot.append(contentsOf: repeatElement(false, count: slot + 1 - keptOfSlot.count))
        }
        if buildsOutline {
            let entry = Int(entryOfSlot[slot])
            if entry >= 0 {
                // A spawn that reused a live task's id replaces that task: its entry moves to this one.
                outline.reuseEntry(entry, id: event.task, begin: event.time)
            } else if outline.count < maxTasks {
                // Entries reserved for tasks that are then left out (past `maxTasks`) stay unfilled; with this
                // bound there are at most 2 × `maxTasks` entries.
                entryOfSlot[slot] = Int32(outline.reserveEntry(id: event.task, begin: event.time))
            }
        }
        keptOfSlot[slot] = choose(event, strings: strings)
    }

    private mutating func choose(_ event: TraceEvent, strings: StringTable) -> Bool {
        if retention.perSiblingName == .max { return true }
        if !retention.ids.isEmpty && retention.ids.contains(event.task) { return true }
        if !retention.names.isEmpty {
            let matches = nameMatchesByString[event.name] ?? {
                let matches = retention.names.contains(strings[event.name])
                nameMatchesByString[event.name] = matches
                return matches
            }()
            if matches { return true }
        }
        guard chosenCount < retention.maxKept else { return false }
        let key = SiblingKey(parent: event.parent, name: event.name)
        let count = siblingCounts[key, default: 0]
        guard count < retention.perSiblingName else { return false }
        siblingCounts[key] = count + 1
        chosenCount += 1
        return true
    }

    /// Whether the lifecycle of the task that ended in `slot` is kept.
    func retains(_ task: borrowing CompactTask, slot: Int32) -> Bool {
        let id = task.id, hasSpawn = task.hasSpawn
        if hasSpawn && Int(slot) < keptOfSlot.count && keptOfSlot[Int(slot)] { return true }
        return retention.perSiblingName == .max || (!retention.ids.isEmpty && retention.ids.contains(id))
    }

    /// Before the tracker hands over the tasks still alive at the end: what was noted at their spawns.
    mutating func noteLive(_ slots: [(id: TaskID, slot: Int32, hasSpawn: Bool)]) {
        for (id, slot, hasSpawn) in slots where hasSpawn && Int(slot) < entryOfSlot.count {
            liveAtEnd[id] = (entryOfSlot[Int(slot)], keptOfSlot[Int(slot)])
        }
    }

    /// The entry of the task that ended in `slot` (reserved at its spawn, else a new one), or nil when the outline
    /// is full (counted) or not built.
    private mutating func admit(slot: Int32, hasSpawn: Bool, _ report: inout AnalysisReport) -> Int? {
        var entry: Int32 = -1
        if hasSpawn && Int(slot) < entryOfSlot.count {
            entry = entryOfSlot[Int(slot)]
            entryOfSlot[Int(slot)] = -1
        }
        return admit(entry: entry, &report)
    }

    private mutating func admit(entry: Int32, _ report: inout AnalysisReport) -> Int? {
        guard buildsOutline else { return nil }
        guard admitted < maxTasks else {
            report.elidedTasks += 1
            return nil
        }
        admitted += 1
        return entry >= 0 ? Int(entry) : outline.reserveEntry(id: 0, begin: 0)
    }

    /// An ended task without a full lifecycle.
    mutating func add(_ task: borrowing CompactTask, slot: Int32, strings: StringTable, into report: inout AnalysisReport) {
        guard let entry = admit(slot: slot, hasSpawn: task.hasSpawn, &report) else { return }
        func index(_ id: StringID) -> Int32 {
            // By id in an array when the table holds the id (so the array is no longer than the table).
            if strings.contains(id) {
                if id < UInt64(nameIndexOfString.count), nameIndexOfString[Int(id)] >= 0 { return nameIndexOfString[Int(id)] }
                let index = outline.nameIndex(of: strings[id])
                if id >= UInt64(nameIndexOfString.count) {
                    nameIndexOfString.append(contentsOf: repeatElement(-1, count: Int(id) + 1 - nameIndexOfString.count))
                }
                nameIndexOfString[Int(id)] = index
                return index
            }
            if let known = nameIndexByString[id] { return known }
            let index = outline.nameIndex(of: strings[id])
            nameIndexByString[id] = index
            return index
        }
        let nameIndex = task.nameKind == .string ? index(task.name) : outline.nameIndex(of: "#\(task.id)")
        var byName: Int32 = -1, message: Int32 = 0
        if task.hasEffectiveCancel {
            message = index(task.cancelMessage)
            switch task.cancelByKind {
            case nil: break
            case .string?: byName = index(task.cancelByName)
            case .orphan?: byName = outline.nameIndex(of: "#\(task.cancelBy)")
            }
        }
        outline.set(entry, task, nameIndex: nameIndex, cancelByName: byName, cancelMessage: message)
    }

    /// An ended task with its full lifecycle (`hasSpawn` and `slot` of the compact task it was).
    mutating func add(_ task: TaskLifecycle, slot: Int32, hasSpawn: Bool, retained: Bool, into report: inout AnalysisReport) {
        if !buildsOutline {
            if retained { report.tasks.append(task) }
            return
        }
        guard let entry = admit(slot: slot, hasSpawn: hasSpawn, &report) else { return }
        fill(entry, task, retained: retained)
    }

    private mutating func fill(_ entry: Int, _ task: TaskLifecycle, retained: Bool) {
        outline.set(entry, task, nameIndex: outline.nameIndex(of: task.name))
        if retained { outline.keepDetail(task, at: entry) }
    }

    /// Whether the lifecycle of a task still alive at the end of the trace is kept (after `noteLive`).
    func retains(live task: TaskLifecycle) -> Bool {
        liveAtEnd[task.id]?.kept ?? false || retention.perSiblingName == .max
            || (!retention.ids.isEmpty && retention.ids.contains(task.id))
    }

    /// A task still alive at the end of the trace (after `noteLive`).
    mutating func add(_ task: TaskLifecycle, into report: inout AnalysisReport) {
        let noted = liveAtEnd[task.id]
        let retained = retains(live: task)
        if !buildsOutline {
            if retained { report.tasks.append(task) }
            return
        }
        guard let entry = admit(entry: noted?.entry ?? -1, &report) else { return }
        fill(entry, task, retained: retained)
    }

    /// The outline, finished (`TaskOutline.finish`).
    mutating func finishedOutline() -> TaskOutline {
        var done = TaskOutline()
        swap(&done, &outline)
        done.finish()
        return done
    }
}
