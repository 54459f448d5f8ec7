import Synchronization
import TraceFormat

/// What an event needs of the traced task it runs in: the task's id and the session that recorded its spawn.
/// The task-local behind `TaskRecord.current` holds this as a plain 8-byte value, not the record, so that
/// reading it costs no reference counting (every event reads it), copying it into a new task touches no shared
/// count, and the binding is no larger than a reference (a larger one made a churned task overflow its first
/// task-allocator slab: one more malloc per task).
struct TaskRef: Sendable, Equatable {
    let id: TaskID
    let session: UInt64

    /// Ids below 2^44 and sessions below 2^20 pack into one word (0: none; ids start at 1).
    private static let idBits: UInt64 = 44

    /// The packed form, or 0 when the ref does not fit: that task's events then record no task (0), and its
    /// children no parent — after 17.6 trillion tasks in one session or a million sessions in one process.
    var packed: UInt64 {
        guard id >> Self.idBits == 0, session >> (64 - Self.idBits) == 0 else { return 0 }
        return session << Self.idBits | id
    }

    init(id: TaskID, session: UInt64) {
        self.id = id
        self.session = session
    }

    init?(packed: UInt64) {
        guard packed != 0 else { return nil }
        self.init(id: packed & (1 << Self.idBits - 1), session: packed >> Self.idBits)
    }
}

/// A traced task as the recorder sees it: its id, its parent, and whether a cancel or its end was recorded.
///
/// The current task's `TaskRef` lives in a task-local, so every event knows its task and every spawn its
/// parent. One atomic byte orders a task's cancel before its end: a cancel that arrives after the end is not
/// recorded (the task could not have seen it), and a cancel is recorded at most once, whichever path sees it
/// first. Checking it first lets the runtime's cancellation handler skip the recorder when an API call already
/// recorded the cancel.
@usableFromInline
final class TaskRecord: @unchecked Sendable {
    @usableFromInline let id: TaskID
    /// The number of the session that recorded the spawn; events of this task go to that session only.
    let session: UInt64
    /// The parent's id in this record's session (0: none). An id, not the parent's record: a reference would
    /// have every child of one parent write that record's reference count, from whichever pool thread it
    /// starts and ends on.
    let parentID: TaskID
    /// Whether the Swift task is a structured child of its parent (group child, timeout operation), so that a
    /// cancel the runtime delivers without a recorded cause came from the parent.
    let isStructuredChild: Bool
    /// Whether it was spawned under a traced task (whose id may be 0 here: spawned in an earlier session).
    let hasParent: Bool

    /// `cancelledFlag` and `endedFlag`; set only by the session that owns the record (`EventBuffer`).
    private let flags = Atomic<UInt8>(0)
    private static let cancelledFlag: UInt8 = 1
    private static let endedFlag: UInt8 = 2

    var cancelRecordedOrEnded: Bool { flags.load(ordering: .relaxed) != 0 }
    var isEnded: Bool { flags.load(ordering: .relaxed) & Self.endedFlag != 0 }

    /// Sets the cancel flag unless a cancel was recorded or the task ended; whether it did.
    func markCancelled() -> Bool {
        var current = flags.load(ordering: .relaxed)
        while current == 0 {
            let (exchanged, original) = flags.compareExchange(expected: 0, desired: Self.cancelledFlag,
                                                              ordering: .acquiringAndReleasing)
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Sets the end flag; false when it was already set.
    func markEnded() -> Bool {
        flags.bitwiseOr(Self.endedFlag, ordering: .acquiringAndReleasing).oldValue & Self.endedFlag == 0
    }

    /// The traced task the current code runs in.
    static var current: TaskRef? { TaskRef(packed: currentPacked) }
    @TaskLocal static var currentPacked: UInt64 = 0

    var ref: TaskRef { TaskRef(id: id, session: session) }

    private init(id: TaskID, session: UInt64, parentID: TaskID, hasParent: Bool, isStructuredChild: Bool) {
        self.id = id
        self.session = session
        self.parentID = parentID
        self.hasParent = hasParent
        self.isStructuredChild = isStructuredChild
    }

    /// Records the spawn of a task started `how` at `site`, under the current task. Nil when nothing is recording.
    static func spawn(name: String?, site: CallSite, how: SpawnKind,
                      parent: TaskRef? = TaskRecord.current) -> TaskRecord? {
        guard tracingEnabled.load(ordering: .relaxed),
              let spawned = Recorder.spawn(name: name, site: site, how: how, parent: parent) else { return nil }
        let structured = how == .child || how == .groupChild
        return TaskRecord(id: spawned.id, session: spawned.session, parentID: spawned.parent,
                          hasParent: parent != nil, isStructuredChild: structured)
    }

    /// Records that `by` asked this task to cancel, for `reason`. Returns false when a cancel was already
    /// recorded or the task has ended.
    @discardableResult
    func recordCancel(by: TaskRef?, reason: CancelReason) -> Bool {
        Recorder.cancel(task: self, by: by, reason: reason)
    }

    /// Runs `body` with `current` bound to `record` when `bind`, for a `Task` created inside to copy.
    @inline(__always)
    static func bindingIf<R>(_ bind: Bool, _ record: TaskRecord, _ body: () -> R) -> R {
        bind ? $currentPacked.withValue(record.ref.packed, operation: body) : body()
    }

    /// The reason `Task.cancel(reason:)` gives, bound only while that call runs.
    @TaskLocal static var cancelReason: CancelReason?

    /// The task's cancellation handler fired. When no API call recorded why, say what can be known.
    ///
    /// The runtime runs the handler synchronously inside `cancel()`, on the canceller's thread, so the task-locals
    /// read here are the canceller's: `current` is the traced task that called `cancel()` (nil for untraced code)
    /// and `cancelReason` what it passed to `cancel(reason:)`. A structured child is cancelled with its parent,
    /// whoever cancelled that. A task cancelled before it started running installs its handler already
    /// cancelled, so the handler runs in the task itself: then who asked is unknown.
    func cancellationDelivered() {
        // Already recorded by the API call that cancelled (or the task ended): nothing to look up.
        if cancelRecordedOrEnded { return }
        if isStructuredChild, hasParent {
            Recorder.cancel(task: self, byID: parentID, reason: .parent)
            return
        }
        let canceller = TaskRecord.current
        if let canceller, canceller != ref {
            recordCancel(by: canceller, reason: TaskRecord.cancelReason ?? .explicit)
        } else if canceller == nil, let reason = TaskRecord.cancelReason {
            recordCancel(by: nil, reason: reason)
        } else {
            recordCancel(by: nil, reason: .unknown)
        }
    }

    func recordEnd(error: (any Error)?) {
        Recorder.end(task: self, error: error)
    }

    /// Runs `operation` as the body of `record`'s task: current task-local set, cancellation handler installed,
    /// end recorded with its outcome. Without a record (recording off) it just runs `operation`. `bound`: the
    /// task already has `current` = `record` (copied from its creator, see `CancelTrace.task`), so no second
    /// binding is pushed.
    static func run<T>(
        _ record: TaskRecord?,
        bound: Bool = false,
        isolation: isolated (any Actor)? = #isolation,
        _ operation: () async throws -> T
    ) async rethrows -> T {
        guard let record else { return try await operation() }
        do {
            // Each closure names `isolation`: a closure is isolated to an `isolated` parameter only when it
            // captures it. Without that, each would hop to the global executor and back, and tasks started one
            // after another on an actor would run in whatever order they came back.
            let value: T
            if bound {
                value = try await withTaskCancellationHandler {
                    _ = isolation
                    return try await operation()
                } onCancel: {
                    record.cancellationDelivered()
                }
            } else {
                value = try await $currentPacked.withValue(record.ref.packed) {
                    _ = isolation
                    return try await withTaskCancellationHandler {
                        _ = isolation
                        return try await operation()
                    } onCancel: {
                        record.cancellationDelivered()
                    }
                }
            }
            record.recordEnd(error: nil)
            return value
        } catch {
            record.recordEnd(error: error)
            throw error
        }
    }
}
