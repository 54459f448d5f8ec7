import TraceFormat

/// Rebuilds task lifecycles from events in file order, keeping only live tasks.
///
/// A task leaves the tracker when its `end` arrives and is handed to the caller then, so memory is bounded by
/// the number of tasks alive at once, not by the trace's length. Call `finish()` for the tasks that never ended.
public struct TaskTracker: Sendable {
    /// Live tasks in slots that are reused once a task ends (`free`), found by id through `index`: one cheap
    /// hash probe per event, and a task's lifecycle is updated in place.
    private var slots: [TaskLifecycle] = []
    private var free: [Int] = []
    private var index = TaskIndex()
    /// Tasks seen without a spawn record (lost to damage, or from a recorder that started late).
    public private(set) var tasksWithoutSpawn = 0
    /// Spawn records for a task id that was already live: the later one replaces it.
    public private(set) var duplicateSpawns = 0
    /// Events lost by the recorder, from `dropped` records.
    public private(set) var droppedEvents: UInt64 = 0
    /// Time of the last event seen.
    public private(set) var lastTime: UInt64 = 0
    /// Tasks currently alive.
    public var liveCount: Int { index.count }
    /// The most tasks alive at once, which bounds this tracker's memory.
    public private(set) var peakLiveCount = 0

    public init() {}

    /// Folds one event in. Returns the task's lifecycle when the event ended it.
    public mutating func consume(_ event: TraceEvent, strings: StringTable) -> TaskLifecycle? {
        lastTime = event.time
        switch event.kind {
        case .info, .string, .close:
            return nil
        case .dropped:
            droppedEvents &+= event.droppedCount
            return nil
        case .spawn:
            guard event.task != 0 else { return nil }  // 0 is never a task: a damaged or buggy record
            var task = TaskLifecycle(id: event.task, firstSeen: event.time)
            task.parent = event.parent
            task.name = strings[event.name]
            task.how = event.spawnKind
            task.spawnTime = event.time
            if let slot = index.slot(of: event.task) {
                duplicateSpawns += 1
                slots[slot] = task
            } else {
                insert(task)
            }
            return nil
        case .end:
            guard event.task != 0 else { return nil }
            var task = take(event.task) ?? orphan(event)
            task.end = TaskEnd(time: event.time, outcome: event.outcome, errorType: strings[event.errorType])
            return task
        case .cancel:
            let canceller = event.canceller
            let byName = canceller == 0 ? nil : index.slot(of: canceller).map { slots[$0].name }
            update(event) { task in
                task.cancels.append(CancelRequest(time: event.time, by: canceller, byName: byName,
                                                  reason: event.cancelReason, message: strings[event.message]))
            }
        case .uncancel:
            update(event) { task in
                if let index = task.cancels.lastIndex(where: { !$0.withdrawn }) { task.cancels[index].withdrawn = true }
            }
        case .caught:
            update(event) { task in
                let pending = task.cancels.contains { !$0.withdrawn }
                task.catches.append(CaughtCancellation(time: event.time, errorType: strings[event.errorType],
                                                       whileCancelPending: pending))
            }
        case .cleanupBegin:
            update(event) { task in
                task.cleanups.append(Cleanup(begin: event.time, end: nil, result: nil, errorType: ""))
            }
        case .cleanupEnd:
            update(event) { task in
                if let index = task.cleanups.lastIndex(where: { $0.end == nil }) {
                    task.cleanups[index].end = event.time
                    task.cleanups[index].result = event.cleanupResult
                    task.cleanups[index].errorType = strings[event.errorType]
                } else {
                    // The begin was lost: keep the end with a zero-length cleanup.
                    task.cleanups.append(Cleanup(begin: event.time, end: event.time, result: event.cleanupResult,
                                                 errorType: strings[event.errorType]))
                }
            }
        case .rethrow:
            update(event) { $0.rethrowTimes.append(event.time) }
        case .mark:
            if event.task != 0 {
                update(event) { $0.marks.append(Mark(time: event.time, label: strings[event.label])) }
            }
        }
        return nil
    }

    /// The tasks still alive at the end of the trace, by id. The tracker is empty afterwards.
    public mutating func finish() -> [TaskLifecycle] {
        var tasks: [TaskLifecycle] = []
        tasks.reserveCapacity(index.count)
        let vacant = Set(free)
        for (slot, task) in slots.enumerated() where !vacant.contains(slot) { tasks.append(task) }
        slots.removeAll()
        free.removeAll()
        index.removeAll()
        return tasks.sorted { $0.id < $1.id }
    }

    /// The live task `event` is about, created when its spawn was never seen.
    private mutating func update(_ event: TraceEvent, _ change: (inout TaskLifecycle) -> Void) {
        let id = event.task
        guard id != 0 else { return }
        let slot: Int
        if let found = index.slot(of: id) {
            slot = found
        } else {
            slot = insert(orphan(event))
        }
        change(&slots[slot])
        if slots[slot].mayNeedTrim { Self.trim(&slots[slot]) }
    }

    @discardableResult
    private mutating func insert(_ task: TaskLifecycle) -> Int {
        let slot: Int
        if let reused = free.popLast() {
            slot = reused
            slots[slot] = task
        } else {
            slot = slots.count
            slots.append(task)
        }
        index.set(task.id, slot: slot)
        peakLiveCount = max(peakLiveCount, index.count)
        return slot
    }

    /// Moves the live task `id` out of its slot, freeing the slot.
    private mutating func take(_ id: TaskID) -> TaskLifecycle? {
        guard let slot = index.remove(id) else { return nil }
        // Swap a cheap placeholder in, so the lifecycle moves out without copying its arrays.
        var task = TaskLifecycle(id: 0, firstSeen: 0)
        swap(&task, &slots[slot])
        free.append(slot)
        return task
    }

    private mutating func orphan(_ event: TraceEvent) -> TaskLifecycle {
        tasksWithoutSpawn += 1
        var task = TaskLifecycle(id: event.task, firstSeen: event.time)
        task.name = "#\(event.task)"
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
            + cut(&task.rethrowTimes) + cut(&task.marks)
    }
}
