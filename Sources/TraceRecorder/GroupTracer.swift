import Synchronization
import TraceFormat

/// What the traced task groups share: the task that owns the group, the children it may still cancel, and
/// whether a child's error has reached the body (so that the cancel that follows reads `siblingFailure`).
///
/// Nil in a group made while recording was off: its children then run exactly as the plain group's would.
final class GroupTracer: Sendable {
    let owner: TaskRef?
    fileprivate let running = Locked<[TaskID: TaskRecord]>([:])
    private let childFailed = Atomic<Bool>(false)

    private init(owner: TaskRef?) { self.owner = owner }

    /// A tracer for a group the current task is making, or nil when nothing is recording.
    static func make() -> GroupTracer? {
        CancelTrace.isEnabled ? GroupTracer(owner: TaskRecord.current) : nil
    }

    /// Records the spawn of a child and remembers it as running; nil when the session has ended.
    func spawnChild(name: String?, site: CallSite) -> TaskRecord? {
        guard let record = TaskRecord.spawn(name: name, site: site, how: .groupChild, parent: owner) else { return nil }
        running.withLock { $0[record.id] = record }
        return record
    }

    /// Runs a child's operation as its traced task; when it fails and `cancelsSiblingsOnFailure` (a discarding
    /// group, which the runtime cancels on a child's error), records the cancel of its siblings first.
    func runChild<T>(_ record: TaskRecord, cancelsSiblingsOnFailure: Bool,
                     _ operation: () async throws -> T) async rethrows -> T {
        defer { running.withLock { _ = $0.removeValue(forKey: record.id) } }
        do {
            return try await TaskRecord.run(record, operation)
        } catch {
            if cancelsSiblingsOnFailure {
                childFailed.store(true, ordering: .relaxed)
                recordCancelOfRunningChildren(reason: .siblingFailure)
            }
            throw error
        }
    }

    /// A child's error reached the body (`next()`, `waitForAll()`, the iterator).
    func noteChildError(_ error: any Error) {
        if !(error is CancellationError) { childFailed.store(true, ordering: .relaxed) }
    }

    /// The body threw: the group cancels the children still running. The cause is the failed child when the
    /// body saw one fail, else the body (the parent) itself.
    func bodyThrew() {
        recordCancelOfRunningChildren(reason: childFailed.load(ordering: .relaxed) ? .siblingFailure : .parent)
    }

    /// Records the cancel of each child still running, by the owning task, for `reason`.
    func recordCancelOfRunningChildren(reason: CancelReason) {
        let children = running.withLock { $0.values.sorted { $0.id < $1.id } }
        for child in children {
            child.recordCancel(by: owner, reason: reason)
        }
    }
}

extension GroupTracer {
    /// `addTaskUnlessCancelled` refused a child whose spawn was already recorded (the group was cancelled
    /// between the check and the add): record that it was cancelled with the group and never ran.
    func childRefused(_ record: TaskRecord) {
        running.withLock { _ = $0.removeValue(forKey: record.id) }
        record.recordCancel(by: owner, reason: .parent)
        record.recordEnd(error: CancellationError())
    }
}
