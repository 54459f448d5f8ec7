import TraceFormat

/// A live task as `TaskTracker` keeps it: plain values only (ids, times, string ids), at most one entry of each
/// kind stored inline, so that following a task and checking it when it ends allocates nothing and copies no
/// references.
///
/// Most tasks are never cancelled, and a cancelled one usually has one cancel request, one catch, one cleanup and
/// one rethrow. A task that needs more (a second entry of any kind) moves to a full `TaskLifecycle` (`detail`),
/// built from these fields and updated from then on exactly as before. A `TaskLifecycle` is otherwise built only
/// for a task that may have a finding, or when the caller keeps every task.
///
/// Names, messages and error types stay string ids until a `TaskLifecycle` is built: the format defines each id
/// once, before its first use, so resolving one later gives the text it had when the event was read.
struct CompactTask: Sendable {
    enum NameKind: UInt8, Sendable {
        /// `name` is a string id.
        case string
        /// Seen without a spawn record: the name reads `#id`.
        case orphan
    }

    // 8-byte fields first and the small ones together at the end: Swift lays fields out in declaration order,
    // and interleaved they padded a task to 208 bytes; it is copied into its slot, and read for every end.
    var id: TaskID
    var parent: TaskID = 0
    var name: StringID = 0
    var spawnTime: UInt64 = 0
    var firstSeen: UInt64

    var cancelTime: UInt64 = 0
    var cancelBy: TaskID = 0
    var cancelOrigin: TaskID = 0
    var cancelByName: StringID = 0
    var cancelMessage: StringID = 0

    var catchTime: UInt64 = 0
    var catchError: StringID = 0

    var cleanupBegin: UInt64 = 0
    var cleanupEnd: UInt64 = 0
    var cleanupError: StringID = 0

    var rethrowTime: UInt64 = 0

    var markTime: UInt64 = 0
    var markLabel: StringID = 0

    var site: StringID = 0
    var signalTime: UInt64 = 0
    var signalVia: StringID = 0

    var endTime: UInt64 = 0
    var endError: StringID = 0

    /// Index into the tracker's full lifecycles, or -1 while the inline fields hold everything.
    var detail: Int32 = -1

    var nameKind = NameKind.string
    var how = SpawnKind.unstructured
    var hasSpawn = false

    var hasCancel = false
    var cancelWithdrawn = false
    var cancelByOwnSubtree = false
    var cancelReason = CancelReason.unknown
    /// How the canceller's name reads: nil (0 or not live), a string id, or `#id` for a canceller seen without
    /// its spawn.
    var cancelByKind: NameKind? = nil

    var hasCatch = false
    var catchWhileCancelPending = false

    var hasCleanup = false
    var cleanupEnded = false
    var cleanupResult = CleanupResult.ok

    var hasRethrow = false
    var hasMark = false
    var hasSignal = false
    var signalWhat = CancellationSignal.flag

    var hasEnd = false
    var outcome = Outcome.returned

    @inline(__always)
    init(id: TaskID, firstSeen: UInt64) {
        self.id = id
        self.firstSeen = firstSeen
    }

    /// The task a `spawn` record starts.
    @inline(__always)
    init(spawn event: TraceEvent) {
        self.init(id: event.task, firstSeen: event.time)
        parent = event.parent
        name = event.name
        how = event.spawnKind
        hasSpawn = true
        spawnTime = event.time
    }

    /// No cancel request, no catch and no cleanup: the rules that know it (`PrefilteredRule`) report nothing
    /// about such a task once it has ended.
    var isQuiet: Bool { !hasCancel && !hasCatch && !hasCleanup }

    /// The cancel request that stands (not withdrawn), as `TaskLifecycle.effectiveCancel` sees it.
    var hasEffectiveCancel: Bool { hasCancel && !cancelWithdrawn }

    /// `TaskLifecycle.cancelLatency`.
    var cancelLatency: UInt64? {
        guard hasEffectiveCancel, hasEnd else { return nil }
        return endTime >= cancelTime ? endTime - cancelTime : 0
    }

    /// The inline cleanup's duration, when it ended.
    var cleanupDuration: UInt64? {
        guard hasCleanup, cleanupEnded else { return nil }
        return cleanupEnd >= cleanupBegin ? cleanupEnd - cleanupBegin : 0
    }

    /// The task's name as `TaskLifecycle.name` holds it.
    func resolvedName(_ strings: StringTable) -> String {
        switch nameKind {
        case .string: strings[name]
        case .orphan: "#\(id)"
        }
    }

    /// The full lifecycle these fields describe (for a task without `detail`).
    func lifecycle(_ strings: StringTable) -> TaskLifecycle {
        var task = TaskLifecycle(id: id, firstSeen: firstSeen)
        write(into: &task, strings)
        return task
    }

    /// Replaces `task` with the full lifecycle these fields describe, keeping its lists' storage: a lifecycle
    /// rebuilt in the same place for each task a rule may report (`TraceAnalyzer`'s pass) allocates and frees no
    /// lists, where a new one cost a malloc and a free per list (callgrind, Docs/Performance.md).
    func write(into task: inout TaskLifecycle, _ strings: StringTable) {
        var cancels = Self.emptied(&task.cancels)
        var catches = Self.emptied(&task.catches)
        var cleanups = Self.emptied(&task.cleanups)
        var rethrowTimes = Self.emptied(&task.rethrowTimes)
        var marks = Self.emptied(&task.marks)
        var signals = Self.emptied(&task.signals)
        task = TaskLifecycle(id: id, firstSeen: firstSeen)  // every other field back to its default
        task.parent = parent
        task.name = resolvedName(strings)
        task.how = how
        task.site = strings[site]
        if hasSpawn { task.spawnTime = spawnTime }
        if hasCancel {
            let byName: String? = switch cancelByKind {
            case nil: nil
            case .string: strings[cancelByName]
            case .orphan: "#\(cancelBy)"
            }
            cancels.append(CancelRequest(time: cancelTime, by: cancelBy, byName: byName, reason: cancelReason,
                                         message: strings[cancelMessage], withdrawn: cancelWithdrawn,
                                         origin: cancelOrigin, byOwnSubtree: cancelByOwnSubtree))
        }
        if hasCatch {
            catches.append(CaughtCancellation(time: catchTime, errorType: strings[catchError],
                                              whileCancelPending: catchWhileCancelPending))
        }
        if hasCleanup {
            cleanups.append(cleanupEnded
                ? Cleanup(begin: cleanupBegin, end: cleanupEnd, result: cleanupResult, errorType: strings[cleanupError])
                : Cleanup(begin: cleanupBegin, end: nil, result: nil, errorType: ""))
        }
        if hasRethrow { rethrowTimes.append(rethrowTime) }
        if hasMark { marks.append(Mark(time: markTime, label: strings[markLabel])) }
        if hasSignal { signals.append(SignalSeen(time: signalTime, what: signalWhat, via: strings[signalVia])) }
        if hasEnd { task.end = TaskEnd(time: endTime, outcome: outcome, errorType: strings[endError]) }
        task.cancels = cancels
        task.catches = catches
        task.cleanups = cleanups
        task.rethrowTimes = rethrowTimes
        task.marks = marks
        task.signals = signals
    }

    /// `list` moved out and emptied, its storage kept (when nothing else holds it).
    @inline(__always)
    private static func emptied<T>(_ list: inout [T]) -> [T] {
        var kept: [T] = []
        swap(&kept, &list)
        kept.removeAll(keepingCapacity: true)
        return kept
    }
}
