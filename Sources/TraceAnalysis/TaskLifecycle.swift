import TraceFormat

/// One task's life as rebuilt from a trace: who started it, every cancel request, what its code did about it,
/// and how it ended. Rules read these; renderers draw them.
public struct TaskLifecycle: Sendable, Identifiable {
    public let id: TaskID
    /// The parent task, or 0.
    public var parent: TaskID = 0
    public var name: String = ""
    public var how: SpawnKind = .unstructured
    /// Where the task was created (`file:line (function)`, or `module+0xOFFSET`), or empty when not recorded.
    public var site: String = ""
    /// Nil when the spawn record was lost (a damaged chunk) and the task was first seen later.
    public var spawnTime: UInt64?
    /// The time of the task's first event, spawn or not.
    public var firstSeen: UInt64
    /// Cancel requests in order. A request withdrawn by `uncancel` stays here with `withdrawn` set.
    public var cancels: [CancelRequest] = []
    /// Cancellation errors caught by the task's own code.
    public var catches: [CaughtCancellation] = []
    public var cleanups: [Cleanup] = []
    public var rethrowTimes: [UInt64] = []
    public var marks: [Mark] = []
    /// Where the task's code met its cancellation (format 1.1 `signal` records), in order.
    public var signals: [SignalSeen] = []
    public var end: TaskEnd?

    /// Most entries each list keeps, so a pathological trace cannot grow one task without bound.
    public static let maxEntriesPerList = 64
    /// Entries dropped because a list was full.
    public var elidedEntries = 0

    public init(id: TaskID, firstSeen: UInt64) {
        self.id = id
        self.firstSeen = firstSeen
    }

    /// Whether some list may be over `maxEntriesPerList` (checked before the slower trim).
    var mayNeedTrim: Bool {
        let limit = Self.maxEntriesPerList
        return cancels.count > limit || catches.count > limit || cleanups.count > limit
            || rethrowTimes.count > limit || marks.count > limit || signals.count > limit
    }

    /// The first cancel request that was never withdrawn: the one the task should have honoured.
    public var effectiveCancel: CancelRequest? { cancels.first { !$0.withdrawn } }

    /// Catches of the task's own cancellation: made while one of its cancel requests was pending.
    public var ownCatches: [CaughtCancellation] { catches.filter(\.whileCancelPending) }

    /// Own catches of the effective cancel: made at or after it. A catch before it belonged to an earlier request
    /// that was withdrawn (a timeout's), so it says nothing about how the task treated the cancel that stood.
    public var catchesOfEffectiveCancel: [CaughtCancellation] {
        guard let cancel = effectiveCancel else { return [] }
        return catches.filter { $0.whileCancelPending && $0.time >= cancel.time }
    }

    /// Whether the task re-raised after its last catch of its own cancellation.
    public var rethrewAfterLastOwnCatch: Bool {
        guard let last = ownCatches.last else { return false }
        return rethrowTimes.contains { $0 >= last.time }
    }

    /// The last signal at or after the effective cancel request: how the code last met the cancellation that
    /// stood. `flag` or `stopped` means it stopped on purpose; `received` means the error reached its code.
    public var lastSignalOfEffectiveCancel: SignalSeen? {
        guard let cancel = effectiveCancel, let last = signals.last, last.time >= cancel.time else { return nil }
        return last
    }

    /// The mark `canceltrace run` writes on a task whose operation returns Void and cannot throw
    /// (`Task<Void, Never>`, a `TaskGroup<Void>` or `DiscardingTaskGroup` child).
    public static let returnsVoidCannotThrowMark = "returns Void, cannot throw"

    /// Whether the task's operation returns Void and cannot throw: returning is the only way it can end, and its
    /// end hands nothing to whoever awaits it. Only how long it took to stop can be wrong.
    public var returnsVoidCannotThrow: Bool { marks.contains { $0.label == Self.returnsVoidCannotThrowMark } }

    /// Where a cancellation error comes from a child being collected (a group's `next()`, `Task.value`): draining
    /// several cancelled children receives one each, which is not going on after a swallow.
    static let collectingVias: Set<String> = ["ThrowingTaskGroup.next", "Task.value"]

    /// Why returning normally after `cancel` is the task's own choice rather than a cancellation it lost, or nil:
    /// the cancel came from the task's own subtree (it cancelled its own handle, or a task it started did), or the
    /// task cannot end any other way (`returnsVoidCannotThrow`) — as long as it stopped at the first cancellation
    /// error that reached it: one that received it twice went on after the first (`try?` in a loop). Errors
    /// collected from children (`collectingVias`) do not count: a task drains its cancelled group that way. Rules that
    /// flag "cancelled, then returned" without a recorded catch skip such tasks; a task that never stops is still
    /// `slow-cancellation`'s and `leaked-task`'s.
    public func returnIsOwnChoice(after cancel: CancelRequest) -> String? {
        var received = 0
        for signal in signals where signal.what == .received && signal.time >= cancel.time
            && !Self.collectingVias.contains(signal.via) { received += 1 }
        if received > 1 || elidedEntries > 0 && received > 0 { return nil }
        if cancel.byOwnSubtree { return cancel.origin == id ? "it cancelled itself" : "a task it started cancelled it" }
        if returnsVoidCannotThrow { return "returns Void and cannot throw" }
        return nil
    }

    /// Time from the effective cancel request to the end; nil when either is missing.
    public var cancelLatency: UInt64? {
        guard let cancel = effectiveCancel, let end else { return nil }
        return end.time >= cancel.time ? end.time - cancel.time : 0
    }
}

public struct CancelRequest: Sendable, Equatable {
    public var time: UInt64
    /// The task that asked, or 0 when unknown or not a task.
    public var by: TaskID
    /// The canceller's name when it was a known task at the time.
    public var byName: String?
    public var reason: CancelReason
    public var message: String
    /// Set by a later `uncancel` (Python's `Task.uncancel()`, a timeout turning its cancel into its own error).
    public var withdrawn = false
    /// The task whose code started this cancel: `by` for an explicit (or unknown) cancel, or for a cancel passed
    /// down from a parent, where the parent's cancel started. 0 when unknown, or when no task's code decided it
    /// (a timeout, a shutdown, a sibling's failure).
    public var origin: TaskID = 0
    /// Whether `origin` is the task itself or one of its descendants (as far as the trace links them): the task's
    /// own code decided to stop — it cancelled its own handle, or a child it started cancelled it.
    public var byOwnSubtree = false
}

public struct CaughtCancellation: Sendable, Equatable {
    public var time: UInt64
    public var errorType: String
    /// Whether the task had a pending cancel request when it caught this. A catch without one is a cancellation
    /// that came out of something the task awaited (a child it cancelled), not its own.
    public var whileCancelPending: Bool
}

public struct Cleanup: Sendable, Equatable {
    public var begin: UInt64
    /// Nil while still running (or when the end was lost).
    public var end: UInt64?
    public var result: CleanupResult?
    public var errorType: String
    public var duration: UInt64? { end.map { $0 >= begin ? $0 - begin : 0 } }
}

/// A `signal` record: the task's code met its cancellation.
public struct SignalSeen: Sendable, Equatable {
    public var time: UInt64
    public var what: CancellationSignal
    /// The API that showed it (`Task.isCancelled`, `Task.sleep`), or empty.
    public var via: String

    /// Whether the code stopped because of the cancellation on purpose (it looked at its flag, or said so).
    public var isDeliberateStop: Bool { what != .received }
}

public struct Mark: Sendable, Equatable {
    public var time: UInt64
    public var label: String
}

public struct TaskEnd: Sendable, Equatable {
    public var time: UInt64
    public var outcome: Outcome
    public var errorType: String
}
