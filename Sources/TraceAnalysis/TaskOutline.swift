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
    /// The parent's id, or 0.
    public private(set) var parents: [TaskID] = []
    /// Index into `names` of each task's name.
    public private(set) var nameIndices: [Int32] = []
    /// Each distinct name once.
    public private(set) var names: [String] = []
    /// `spawnTime ?? firstSeen`: where the task's lane begins.
    public private(set) var begins: [UInt64] = []
    /// The end's time; meaningful only when the task ended (`outcome(of:)` is not nil).
    public private(set) var ends: [UInt64] = []
    @usableFromInline private(set) var outcomeCodes: [UInt8] = []
    /// Index into `standingCancels`, or -1: the task's `effectiveCancel`.
    @usableFromInline private(set) var cancelIndices: [Int32] = []
    @usableFromInline private(set) var standingCancels: [StandingCancel] = []
    /// Full lifecycles, by task index: those the analysis was asked to keep (`OutlineRetention`), and those
    /// `supply(_:)` added.
    public private(set) var details: [Int: TaskLifecycle] = [:]

    /// A task's `effectiveCancel`, its strings as indices into `names`.
    @usableFromInline struct StandingCancel: Sendable, Equatable {
        @usableFromInline var time: UInt64
        @usableFromInline var by: TaskID
        /// -1 when the canceller's name was not known.
        var byName: Int32
        var message: Int32
        var reason: CancelReason
    }

    @usableFromInline static let running: UInt8 = .max
    private var nameIndexByText: [String: Int32] = [:]

    public init() {}

    /// The outline of `tasks` (in the order given), every lifecycle kept as its detail.
    public init(_ tasks: [TaskLifecycle]) {
        reserve(tasks.count)
        for index in tasks.indices {
            append(tasks[index], nameIndex: nameIndex(of: tasks[index].name))
            details[index] = tasks[index]
        }
        nameIndexByText = [:]
    }

    public var count: Int { ids.count }

    @inlinable
    public func name(of index: Int) -> String { names[Int(nameIndices[index])] }

    /// How the task ended; nil while it was still running at the end of the trace.
    @inlinable
    public func outcome(of index: Int) -> Outcome? {
        let code = outcomeCodes[index]
        return code == Self.running ? nil : Outcome(rawValue: code)
    }

    /// The end's time, nil while still running.
    @inlinable
    public func end(of index: Int) -> UInt64? { outcomeCodes[index] == Self.running ? nil : ends[index] }

    /// The cancel request that stood (`TaskLifecycle.effectiveCancel`), if any.
    public func standingCancel(of index: Int) -> CancelRequest? {
        let at = cancelIndices[index]
        guard at >= 0 else { return nil }
        let cancel = standingCancels[Int(at)]
        return CancelRequest(time: cancel.time, by: cancel.by, byName: cancel.byName < 0 ? nil : names[Int(cancel.byName)],
                             reason: cancel.reason, message: names[Int(cancel.message)])
    }

    /// The time of the cancel request that stood, if any (`standingCancel(of:)` without building the request).
    @inlinable
    public func standingCancelTime(of index: Int) -> UInt64? {
        let at = cancelIndices[index]
        return at < 0 ? nil : standingCancels[Int(at)].time
    }

    /// Who made the cancel request that stood (0 when unknown or none).
    @inlinable
    public func standingCanceller(of index: Int) -> TaskID {
        let at = cancelIndices[index]
        return at < 0 ? 0 : standingCancels[Int(at)].by
    }

    /// `TaskLifecycle.label` of the task.
    public func label(of index: Int) -> String { TaskLifecycle.label(name: name(of: index), id: ids[index]) }

    /// The task's full lifecycle when kept; otherwise one rebuilt from the outline (no catches, cleanups, marks,
    /// strings of its cancel), which a caller that draws it should have avoided by `supply`ing the detail.
    public func lifecycle(of index: Int) -> TaskLifecycle {
        if let kept = details[index] { return kept }
        var task = TaskLifecycle(id: ids[index], firstSeen: begins[index])
        task.parent = parents[index]
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

    mutating func reserve(_ capacity: Int) {
        ids.reserveCapacity(capacity)
        parents.reserveCapacity(capacity)
        nameIndices.reserveCapacity(capacity)
        begins.reserveCapacity(capacity)
        ends.reserveCapacity(capacity)
        outcomeCodes.reserveCapacity(capacity)
        cancelIndices.reserveCapacity(capacity)
    }

    mutating func nameIndex(of text: String) -> Int32 {
        if let known = nameIndexByText[text] { return known }
        let index = Int32(names.count)
        names.append(text)
        nameIndexByText[text] = index
        return index
    }

    /// Appends a compact task (its canceller's name and cancel message as indices into `names`); `details` are
    /// keyed by the returned index.
    mutating func append(_ task: borrowing CompactTask, nameIndex: Int32, cancelByName: Int32, cancelMessage: Int32) -> Int {
        ids.append(task.id)
        parents.append(task.parent)
        nameIndices.append(nameIndex)
        begins.append(task.hasSpawn ? task.spawnTime : task.firstSeen)
        ends.append(task.endTime)
        outcomeCodes.append(task.hasEnd ? task.outcome.rawValue : Self.running)
        if task.hasEffectiveCancel {
            cancelIndices.append(Int32(standingCancels.count))
            standingCancels.append(StandingCancel(time: task.cancelTime, by: task.cancelBy, byName: cancelByName,
                                                  message: cancelMessage, reason: task.cancelReason))
        } else {
            cancelIndices.append(-1)
        }
        return ids.count - 1
    }

    @discardableResult
    mutating func append(_ task: TaskLifecycle, nameIndex: Int32) -> Int {
        ids.append(task.id)
        parents.append(task.parent)
        nameIndices.append(nameIndex)
        begins.append(task.spawnTime ?? task.firstSeen)
        ends.append(task.end?.time ?? 0)
        outcomeCodes.append(task.end?.outcome.rawValue ?? Self.running)
        if let cancel = task.effectiveCancel {
            cancelIndices.append(Int32(standingCancels.count))
            standingCancels.append(StandingCancel(time: cancel.time, by: cancel.by,
                                                  byName: cancel.byName.map { self.nameIndex(of: $0) } ?? -1,
                                                  message: self.nameIndex(of: cancel.message), reason: cancel.reason))
        } else {
            cancelIndices.append(-1)
        }
        return ids.count - 1
    }

    mutating func keepDetail(_ task: TaskLifecycle, at index: Int) { details[index] = task }

    /// Puts the tasks in the order `TraceAnalyzer` gives kept tasks: by first appearance, then id. `firstSeen`
    /// holds each task's first-event time, in the current order; `appearance`, when given, each task's rank among
    /// the spawns (the tasks were appended as they ended), from which the order is usually already right, so the
    /// (adaptive) sort only checks it.
    mutating func finish(firstSeen: [UInt64], appearance: [Int32]?) {
        nameIndexByText = [:]
        let n = ids.count
        var order: [Int32]
        if let appearance {
            var byRank = [Int32](repeating: -1, count: (appearance.max().map(Int.init) ?? -1) + 1)
            for i in 0..<n { byRank[Int(appearance[i])] = Int32(i) }
            order = byRank
            order.removeAll { $0 < 0 }
        } else {
            order = Array(0..<Int32(n))
        }
        // Ties (a repeated id seen first at one time) in the order the tasks ended, as a stable sort of them gives.
        func inOrder(_ a: Int32, _ b: Int32) -> Bool {
            (firstSeen[Int(a)], ids[Int(a)], a) < (firstSeen[Int(b)], ids[Int(b)], b)
        }
        if zip(order, order.dropFirst()).contains(where: { inOrder($1, $0) }) { order.sort(by: inOrder) }
        if order.elementsEqual(0..<Int32(n)) { return }
        // In place, one cycle of the permutation at a time (a copy of each array would double the peak).
        var done = [Bool](repeating: false, count: n)
        for start in 0..<n where !done[start] {
            var position = start
            let saved = (ids[start], parents[start], nameIndices[start], begins[start], ends[start], outcomeCodes[start],
                         cancelIndices[start])
            while true {
                done[position] = true
                let source = Int(order[position])
                if source == start { break }
                ids[position] = ids[source]
                parents[position] = parents[source]
                nameIndices[position] = nameIndices[source]
                begins[position] = begins[source]
                ends[position] = ends[source]
                outcomeCodes[position] = outcomeCodes[source]
                cancelIndices[position] = cancelIndices[source]
                position = source
            }
            (ids[position], parents[position], nameIndices[position], begins[position], ends[position],
             outcomeCodes[position], cancelIndices[position]) = saved
        }
        if !details.isEmpty {
            var newIndex = [Int](repeating: 0, count: n)
            for i in 0..<n { newIndex[Int(order[i])] = i }
            var moved: [Int: TaskLifecycle] = [:]
            for (index, task) in details { moved[newIndex[index]] = task }
            details = moved
        }
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

    public init(perSiblingName: Int, maxKept: Int = 20_000, ids: Set<TaskID> = [], names: Set<String> = []) {
        self.perSiblingName = perSiblingName
        self.maxKept = maxKept
        self.ids = ids
        self.names = names
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
/// will be kept, and takes each ended task's outline entry.
///
/// What it notes at a spawn (the spawn's rank, whether the lifecycle is kept) sits in arrays indexed by the
/// tracker's slot of the live task, not in a dictionary by id: slots are few (the peak of live tasks) and reused.
struct OutlineCollector {
    var outline = TaskOutline()
    /// Each outline entry's first-event time and rank among the spawns, for `TaskOutline.finish`.
    var firstSeen: [UInt64] = []
    var appearance: [Int32] = []
    /// False once a task came without a rank (seen without its spawn): `appearance` is then not used.
    private(set) var ranked = true
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
    private var spawns: Int32 = 0
    /// By slot: the live task's spawn rank, and whether its lifecycle is kept.
    private var rankOfSlot: [Int32] = []
    private var keptOfSlot: [Bool] = []
    /// Tasks alive when the trace ended, by id: what `rankOfSlot` and `keptOfSlot` said (`noteLive`).
    private var liveAtEnd: [TaskID: (rank: Int32, kept: Bool)] = [:]
    private var nameIndexByString: [StringID: Int32] = [:]
    private var nameMatchesByString: [StringID: Bool] = [:]

    init(retention: OutlineRetention, buildsOutline: Bool, maxTasks: Int) {
        self.retention = retention
        self.buildsOutline = buildsOutline
        self.maxTasks = maxTasks
    }

    /// A spawn, folded: the task is live in `slot`.
    mutating func noteSpawn(_ event: TraceEvent, slot: Int, strings: StringTable) {
        if slot >= rankOfSlot.count {
            rankOfSlot.append(contentsOf: repeatElement(-1, count: slot + 1 - rankOfSlot.count))
            keptOfSlot.append(contentsOf: repeatElement(false, count: slot + 1 - keptOfSlot.count))
        }
        rankOfSlot[slot] = spawns
        if spawns == .max { ranked = false } else { spawns += 1 }
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
        for (id, slot, hasSpawn) in slots where hasSpawn && Int(slot) < rankOfSlot.count {
            liveAtEnd[id] = (rankOfSlot[Int(slot)], keptOfSlot[Int(slot)])
        }
    }

    private mutating func room(rank: Int32?, _ report: inout AnalysisReport) -> Bool {
        guard buildsOutline else { return false }
        if outline.count >= maxTasks {
            report.elidedTasks += 1
            return false
        }
        if let rank { appearance.append(rank) } else { ranked = false }
        return true
    }

    /// An ended task without a full lifecycle.
    mutating func add(_ task: borrowing CompactTask, slot: Int32, strings: StringTable, into report: inout AnalysisReport) {
        guard room(rank: task.hasSpawn && Int(slot) < rankOfSlot.count ? rankOfSlot[Int(slot)] : nil, &report) else { return }
        func index(_ id: StringID) -> Int32 {
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
        _ = outline.append(task, nameIndex: nameIndex, cancelByName: byName, cancelMessage: message)
        firstSeen.append(task.firstSeen)
    }

    /// An ended task with its full lifecycle (`hasSpawn` and `slot` of the compact task it was).
    mutating func add(_ task: TaskLifecycle, slot: Int32, hasSpawn: Bool, retained: Bool, into report: inout AnalysisReport) {
        add(task, rank: hasSpawn && Int(slot) < rankOfSlot.count ? rankOfSlot[Int(slot)] : nil, retained: retained, into: &report)
    }

    private mutating func add(_ task: TaskLifecycle, rank: Int32?, retained: Bool, into report: inout AnalysisReport) {
        guard buildsOutline else {
            if retained { report.tasks.append(task) }
            return
        }
        guard room(rank: rank, &report) else { return }
        let index = outline.append(task, nameIndex: outline.nameIndex(of: task.name))
        firstSeen.append(task.firstSeen)
        if retained { outline.keepDetail(task, at: index) }
    }

    /// A task still alive at the end of the trace (after `noteLive`).
    mutating func add(_ task: TaskLifecycle, into report: inout AnalysisReport) {
        let noted = liveAtEnd[task.id]
        let retained = noted?.kept ?? false || retention.perSiblingName == .max
            || (!retention.ids.isEmpty && retention.ids.contains(task.id))
        add(task, rank: noted?.rank, retained: retained, into: &report)
    }
}
