import TraceFormat

/// Rebuilds task lifecycles from events in file order, keeping only live tasks.
///
/// A task leaves the tracker when its `end` arrives and is handed to the caller then, so memory is bounded by
/// the number of tasks alive at once, not by the trace's length. Call `finish()` for the tasks that never ended.
///
/// Live tasks are `CompactTask`s (plain values, no allocation); one moves to a full `TaskLifecycle` only when it
/// has more than one entry of a kind. `consume` builds the public `TaskLifecycle` of each ended task;
/// `TraceAnalyzer` uses `fold` instead and builds one only for the tasks that need it.
public struct TaskTracker: Sendable {
    /// Live tasks in slots that are reused once a task ends, found by id: one cheap hash probe per event, and a
    /// task is updated in place. Shared by copies of the tracker until one of them changes.
    private var live = LiveTasks()
    /// Full lifecycles of the live tasks that outgrew their inline fields, in reusable slots too.
    private var details: [TaskLifecycle] = []
    private var freeDetails: [Int32] = []
    /// The string table `consume` was last given, for `finish()`; `TraceAnalyzer` passes the reader's instead.
    private var consumedStrings = StringTable()
    /// Tasks seen without a spawn record (lost to damage, or from a recorder that started late).
    public private(set) var tasksWithoutSpawn = 0
    /// Spawn records for a task id that was already live: the later one replaces it.
    public private(set) var duplicateSpawns = 0
    /// Records about a task that had already ended (a cancel that raced the end, a second end): ignored, so that
    /// they do not start a new task that never ends. Ended ids are remembered in fixed memory (`EndedTasks`).
    public private(set) var recordsAfterEnd = 0
    /// Events lost by the recorder, from `dropped` records.
    public private(set) var droppedEvents: UInt64 = 0
    /// Time of the last event seen.
    public private(set) var lastTime: UInt64 = 0
    /// Tasks currently alive.
    public var liveCount: Int { live.count }
    /// The most tasks alive at once, which bounds this tracker's memory.
    public private(set) var peakLiveCount = 0
    /// The most live tasks tracked: a trace of spawns that never end would otherwise grow the tracker with the
    /// file (10 million such spawns fit in 15 MB). Past it, new tasks are not tracked and are counted instead.
    public var maxLiveTasks = 1_000_000
    /// Tasks not tracked because `maxLiveTasks` tasks were alive: spawns, and records about tasks never seen.
    public private(set) var untrackedTasks = 0

    public init() {}

    /// Folds one event in. Returns the task's lifecycle when the event ended it.
    public mutating func consume(_ event: TraceEvent, strings: StringTable) -> TaskLifecycle? {
        consumedStrings = strings
        makeUnique()
        let slot = fold(event, strings: strings)
        guard slot >= 0 else { return nil }
        let task = takeLifecycle(slot, strings: strings)
        release(slot)
        return task
    }

    /// Folds one event in. Returns the slot of the task the event ended, or -1. Call `makeUnique()` first, and
    /// `release(_:)` on the slot returned once the task has been read (`task(inSlot:)`, `takeLifecycle`).
    ///
    /// Inlined into each of the reader's per-kind call sites (`TraceReader.nextEvents(to:)`), where the switch
    /// reduces to one call of the kind's own function: one dispatch per event, and a small caller that the
    /// optimizer still inlines helpers into.
    @inline(__always)
    mutating func fold(_ event: TraceEvent, strings: @autoclosure () -> StringTable) -> Int32 {
        assert(isKnownUniquelyReferenced(&live), "fold without makeUnique()")
        lastTime = event.time
        switch event.kind {
        case .info, .string, .close:
            return -1
        case .dropped:
            droppedEvents &+= event.droppedCount
            return -1
        case .spawn: return foldSpawn(event)
        case .end: return foldEnd(event, strings: strings)
        case .cancel: return foldCancel(event, strings: strings)
        case .uncancel: return foldUncancel(event, strings: strings)
        case .caught: return foldCaught(event, strings: strings)
        case .cleanupBegin: return foldCleanupBegin(event, strings: strings)
        case .cleanupEnd: return foldCleanupEnd(event, strings: strings)
        case .rethrow: return foldRethrow(event, strings: strings)
        case .mark: return foldMark(event, strings: strings)
        case .site: return foldSite(event, strings: strings)
        case .signal: return foldSignal(event, strings: strings)
        }
    }

    /// Inlined where the reader decodes a `spawn`, like `foldEnd`.
    @inline(__always)
    private mutating func foldSpawn(_ event: TraceEvent) -> Int32 {
        let id = event.task
        guard id != 0 else { return -1 }  // 0 is never a task: a damaged or buggy record
        // One index probe, and the task written straight into its slot (not built, then copied there).
        guard let (slot, existing) = live.spawnSlot(id, limit: maxLiveTasks) else {
            untrackedTasks += 1
            return -1
        }
        if existing {
            duplicateSpawns += 1
            dropDetail(of: slot)
        } else {
            peakLiveCount = max(peakLiveCount, live.count)
        }
        live.tasks[slot] = CompactTask(spawn: event)
        return -1
    }

    /// Inlined where the reader decodes an `end` (the kind a constant there); the rare cases are calls.
    @inline(__always)
    private mutating func foldEnd(_ event: TraceEvent, strings: () -> StringTable) -> Int32 {
        let id = event.task
        guard id != 0 else { return -1 }
        guard let slot = live.remove(id) ?? endOfUnseenTask(event) else { return -1 }
        live.markEnded(id)
        if live.tasks[slot].detail >= 0 { endDetail(slot, event, strings: strings()) }
        live.tasks[slot].hasEnd = true
        live.tasks[slot].endTime = event.time
        live.tasks[slot].outcome = event.outcome
        live.tasks[slot].endError = event.errorType
        return Int32(slot)
    }

    /// The slot for the `end` of a task that is not live: a new one for a task never seen, or nil (counted) when
    /// the task has already ended.
    @inline(never)
    private mutating func endOfUnseenTask(_ event: TraceEvent) -> Int? {
        if live.hasEnded(event.task) {
            recordsAfterEnd += 1
            return nil
        }
        return Int(place(orphan(event)))
    }

    @inline(never)
    private mutating func endDetail(_ slot: Int, _ event: TraceEvent, strings: StringTable) {
        details[Int(live.tasks[slot].detail)].end = TaskEnd(time: event.time, outcome: event.outcome,
                                                            errorType: strings[event.errorType])
    }

    @inline(__always)
    private mutating func foldCancel(_ event: TraceEvent, strings: () -> StringTable) -> Int32 {
        let id = event.task
        guard id != 0 else { return -1 }
        let canceller = event.canceller
        var byKind: CompactTask.NameKind? = nil
        var byName: StringID = 0
        if canceller != 0, let by = live.slot(of: canceller) {
            byKind = live.tasks[by].nameKind
            byName = live.tasks[by].name
        }
        guard let slot = live(event) else { return -1 }
        let origin = cancelOrigin(by: canceller, reason: event.cancelReason)
        let ownSubtree = origin != 0 && isInSubtree(origin, of: id)
        if live.tasks[slot].detail < 0 && !live.tasks[slot].hasCancel {
            live.tasks[slot].hasCancel = true
            live.tasks[slot].cancelTime = event.time
            live.tasks[slot].cancelOrigin = origin
            live.tasks[slot].cancelByOwnSubtree = ownSubtree
            live.tasks[slot].cancelBy = canceller
            live.tasks[slot].cancelByKind = byKind
            live.tasks[slot].cancelByName = byName
            live.tasks[slot].cancelReason = event.cancelReason
            live.tasks[slot].cancelMessage = event.message
            return -1
        }
        let table = strings()
        let name: String? = switch byKind {
        case nil: nil
        case .string: table[byName]
        case .orphan: "#\(canceller)"
        }
        updateDetail(slot, strings: table) { task in
            task.cancels.append(CancelRequest(time: event.time, by: canceller, byName: name,
                                              reason: event.cancelReason, message: table[event.message],
                                              origin: origin, byOwnSubtree: ownSubtree))
        }
        return -1
    }

    /// The task whose own code started a cancel by `canceller`: a cancel passed down from a parent
    /// (`reason = parent`) started where the parent's cancel did; an explicit (or unknown) one, with its canceller.
    /// 0 when unknown, or when no task's code decided it (a timeout, a shutdown, a sibling's failure).
    private func cancelOrigin(by canceller: TaskID, reason: CancelReason) -> TaskID {
        guard reason == .parent else { return reason == .explicit || reason == .unknown ? canceller : 0 }
        guard canceller != 0, let slot = live.slot(of: canceller) else { return canceller }
        let parent = live.tasks[slot]
        if parent.detail >= 0 { return details[Int(parent.detail)].effectiveCancel?.origin ?? canceller }
        return parent.hasEffectiveCancel ? parent.cancelOrigin : canceller
    }

    /// Whether `task` is `ancestor` or one of its descendants, following the parents of live tasks (a bounded
    /// walk; an ended link in the chain ends it with false).
    private func isInSubtree(_ task: TaskID, of ancestor: TaskID) -> Bool {
        var current = task
        for _ in 0..<64 {
            if current == ancestor { return true }
            guard current != 0, let slot = live.slot(of: current) else { return false }
            current = live.tasks[slot].parent
        }
        return false
    }

    private mutating func foldUncancel(_ event: TraceEvent, strings: () -> StringTable) -> Int32 {
        guard event.task != 0 else { return -1 }
        guard let slot = live(event) else { return -1 }
        if live.tasks[slot].detail < 0 {
            if live.tasks[slot].hasCancel { live.tasks[slot].cancelWithdrawn = true }
            return -1
        }
        updateDetail(slot, strings: strings()) { task in
            if let index = task.cancels.lastIndex(where: { !$0.withdrawn }) { task.cancels[index].withdrawn = true }
        }
        return -1
    }

    @inline(__always)
    private mutating func foldCaught(_ event: TraceEvent, strings: () -> StringTable) -> Int32 {
        guard event.task != 0 else { return -1 }
        guard let slot = live(event) else { return -1 }
        if live.tasks[slot].detail < 0 && !live.tasks[slot].hasCatch {
            live.tasks[slot].hasCatch = true
            live.tasks[slot].catchTime = event.time
            live.tasks[slot].catchError = event.errorType
            live.tasks[slot].catchWhileCancelPending = live.tasks[slot].hasEffectiveCancel
            return -1
        }
        let table = strings()
        updateDetail(slot, strings: table) { task in
            let pending = task.cancels.contains { !$0.withdrawn }
            task.catches.append(CaughtCancellation(time: event.time, errorType: table[event.errorType],
                                                   whileCancelPending: pending))
        }
        return -1
    }

    @inline(__always)
    private mutating func foldCleanupBegin(_ event: TraceEvent, strings: () -> StringTable) -> Int32 {
        guard event.task != 0 else { return -1 }
        guard let slot = live(event) else { return -1 }
        if live.tasks[slot].detail < 0 && !live.tasks[slot].hasCleanup {
            live.tasks[slot].hasCleanup = true
            live.tasks[slot].cleanupBegin = event.time
            return -1
        }
        updateDetail(slot, strings: strings()) { task in
            task.cleanups.append(Cleanup(begin: event.time, end: nil, result: nil, errorType: ""))
        }
        return -1
    }

    @inline(__always)
    private mutating func foldCleanupEnd(_ event: TraceEvent, strings: () -> StringTable) -> Int32 {
        guard event.task != 0 else { return -1 }
        guard let slot = live(event) else { return -1 }
        if live.tasks[slot].detail < 0 && (!live.tasks[slot].hasCleanup || !live.tasks[slot].cleanupEnded) {
            if !live.tasks[slot].hasCleanup {
                // The begin was lost: keep the end with a zero-length cleanup.
                live.tasks[slot].hasCleanup = true
                live.tasks[slot].cleanupBegin = event.time
            }
            live.tasks[slot].cleanupEnded = true
            live.tasks[slot].cleanupEnd = event.time
            live.tasks[slot].cleanupResult = event.cleanupResult
            live.tasks[slot].cleanupError = event.errorType
            return -1
        }
        let table = strings()
        updateDetail(slot, strings: table) { task in
            if let index = task.cleanups.lastIndex(where: { $0.end == nil }) {
                task.cleanups[index].end = event.time
                task.cleanups[index].result = event.cleanupResult
                task.cleanups[index].errorType = table[event.errorType]
            } else {
                // The begin was lost: keep the end with a zero-length cleanup.
                task.cleanups.append(Cleanup(begin: event.time, end: event.time, result: event.cleanupResult,
                                             errorType: table[event.errorType]))
            }
        }
        return -1
    }

    @inline(__always)
    private mutating func foldRethrow(_ event: TraceEvent, strings: () -> StringTable) -> Int32 {
        guard event.task != 0 else { return -1 }
        guard let slot = live(event) else { return -1 }
        if live.tasks[slot].detail < 0 && !live.tasks[slot].hasRethrow {
            live.tasks[slot].hasRethrow = true
            live.tasks[slot].rethrowTime = event.time
            return -1
        }
        updateDetail(slot, strings: strings()) { $0.rethrowTimes.append(event.time) }
        return -1
    }

    @inline(__always)
    private mutating func foldMark(_ event: TraceEvent, strings: () -> StringTable) -> Int32 {
        guard event.task != 0 else { return -1 }
        guard let slot = live(event) else { return -1 }
        if live.tasks[slot].detail < 0 && !live.tasks[slot].hasMark {
            live.tasks[slot].hasMark = true
            live.tasks[slot].markTime = event.time
            live.tasks[slot].markLabel = event.label
            return -1
        }
        let table = strings()
        updateDetail(slot, strings: table) { $0.marks.append(Mark(time: event.time, label: table[event.label])) }
        return -1
    }

    private mutating func foldSite(_ event: TraceEvent, strings: () -> StringTable) -> Int32 {
        guard event.task != 0 else { return -1 }
        guard let slot = live(event) else { return -1 }
        live.tasks[slot].site = event.location
        if live.tasks[slot].detail >= 0 {
            let site = strings()[event.location]
            updateDetail(slot, strings: strings()) { $0.site = site }
        }
        return -1
    }

    private mutating func foldSignal(_ event: TraceEvent, strings: () -> StringTable) -> Int32 {
        guard event.task != 0 else { return -1 }
        guard let slot = live(event) else { return -1 }
        if live.tasks[slot].detail < 0 && !live.tasks[slot].hasSignal {
            live.tasks[slot].hasSignal = true
            live.tasks[slot].signalTime = event.time
            live.tasks[slot].signalWhat = event.signalKind
            live.tasks[slot].signalVia = event.via
            return -1
        }
        let table = strings()
        updateDetail(slot, strings: table) {
            $0.signals.append(SignalSeen(time: event.time, what: event.signalKind, via: table[event.via]))
        }
        return -1
    }

    /// Makes the live-task table this tracker's own, copying it when a copy of the tracker shares it. `fold`
    /// needs it; `TraceAnalyzer` calls this once per run of events instead of once per event.
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&live) { live = live.copy() }
    }

    /// The task in `slot` (the one `fold` just returned), in place: valid until the next `fold`.
    @inline(__always)
    func task(inSlot slot: Int32) -> UnsafePointer<CompactTask> { UnsafePointer(live.tasks + Int(slot)) }

    /// The slot of the live task `id`.
    func slot(of id: TaskID) -> Int? { live.slot(of: id) }

    /// The live tasks' ids and slots (before `finish`).
    func liveSlots() -> [(id: TaskID, slot: Int32, hasSpawn: Bool)] {
        live.indexedSlots().map { (live.tasks[$0].id, Int32($0), live.tasks[$0].hasSpawn) }
    }

    /// The full lifecycle of the task in `slot` (the one `fold` just returned), written into `task` (its lists'
    /// storage reused, `CompactTask.write(into:_:)`); the task must have no `detail`.
    func writeLifecycle(_ slot: Int32, into task: inout TaskLifecycle, strings: StringTable) {
        assert(live.tasks[Int(slot)].detail < 0, "a detailed lifecycle is taken, not written")
        live.tasks[Int(slot)].write(into: &task, strings)
    }

    /// The full lifecycle of the task in `slot` (the one `fold` just returned). Moves a detailed lifecycle out.
    mutating func takeLifecycle(_ slot: Int32, strings: StringTable) -> TaskLifecycle {
        let detail = live.tasks[Int(slot)].detail
        guard detail >= 0 else { return live.tasks[Int(slot)].lifecycle(strings) }
        // Swap a cheap placeholder in, so the lifecycle moves out without copying its arrays.
        var task = TaskLifecycle(id: 0, firstSeen: 0)
        swap(&task, &details[Int(detail)])
        return task
    }

    /// The tasks still alive at the end of the trace, by id, names resolved in `strings`. Empties the tracker.
    mutating func finish(strings: StringTable) -> [TaskLifecycle] {
        makeUnique()
        let tasks = live.indexedSlots().map { takeLifecycle(Int32($0), strings: strings) }
        live = LiveTasks()
        details.removeAll()
        freeDetails.removeAll()
        return tasks.sorted { $0.id < $1.id }
    }

    /// The tasks still alive at the end of the trace, by id. The tracker is empty afterwards.
    public mutating func finish() -> [TaskLifecycle] { finish(strings: consumedStrings) }

    /// The slot of the live task `event` is about, created when its spawn was never seen; nil (and counted) when
    /// the task has already ended.
    @inline(__always)
    private mutating func live(_ event: TraceEvent) -> Int? {
        if let found = live.slot(of: event.task) { return found }
        if live.hasEnded(event.task) {
            recordsAfterEnd += 1
            return nil
        }
        if live.count >= maxLiveTasks {
            untrackedTasks += 1
            return nil
        }
        return insert(orphan(event))
    }

    /// Applies `change` to the slot's full lifecycle, building it from the inline fields first if needed.
    private mutating func updateDetail(_ slot: Int, strings: StringTable, _ change: (inout TaskLifecycle) -> Void) {
        var detail = Int(live.tasks[slot].detail)
        if detail < 0 {
            let task = live.tasks[slot].lifecycle(strings)
            if let reused = freeDetails.popLast() {
                detail = Int(reused)
                details[detail] = task
            } else {
                detail = details.count
                details.append(task)
            }
            live.tasks[slot].detail = Int32(detail)
        }
        change(&details[detail])
        if details[detail].mayNeedTrim { Self.trim(&details[detail]) }
    }

    private mutating func dropDetail(of slot: Int) {
        let detail = live.tasks[slot].detail
        guard detail >= 0 else { return }
        details[Int(detail)] = TaskLifecycle(id: 0, firstSeen: 0)
        freeDetails.append(detail)
        live.tasks[slot].detail = -1
    }

    /// Frees the slot of a task that `fold` reported ended, once the caller has read it.
    @inline(__always)
    mutating func release(_ slot: Int32) {
        dropDetail(of: Int(slot))
        live.release(slot)
    }

    /// Puts `task` in a free slot without indexing it.
    private mutating func place(_ task: CompactTask) -> Int32 { live.place(task) }

    @discardableResult
    private mutating func insert(_ task: CompactTask) -> Int {
        let slot = live.insert(task)
        peakLiveCount = max(peakLiveCount, live.count)
        return slot
    }

    private mutating func orphan(_ event: TraceEvent) -> CompactTask {
        tasksWithoutSpawn += 1
        var task = CompactTask(id: event.task, firstSeen: event.time)
        task.nameKind = .orphan
        return task
    }

    /// Keeps the first and last entries of each over-long list; the rules look at first and last only.
    /// Cancel requests are the exception: which ones still stand decides every rule, so withdrawn requests
    /// (nearest the middle first) go before any pending one does.
    private static func trim(_ task: inout TaskLifecycle) {
        let limit = TaskLifecycle.maxEntriesPerList
        while task.cancels.count > limit,
              let index = task.cancels[(limit / 2)...].firstIndex(where: \.withdrawn)
                ?? task.cancels[..<(limit / 2)].lastIndex(where: \.withdrawn) {
            task.cancels.remove(at: index)
            task.elidedEntries += 1
        }
        func cut<T>(_ list: inout [T]) -> Int {
            guard list.count > limit else { return 0 }
            let removed = list.count - limit
            list.removeSubrange(limit / 2..<(limit / 2 + removed))
            return removed
        }
        task.elidedEntries += cut(&task.cancels) + cut(&task.catches) + cut(&task.cleanups)
            + cut(&task.rethrowTimes) + cut(&task.marks) + cut(&task.signals)
    }
}
