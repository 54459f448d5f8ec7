import Synchronization
import TraceFormat

extension CancelTrace {
    /// A throwing task group whose children are traced — asyncio's `TaskGroup`.
    ///
    /// Like asyncio's, it waits for every child before returning, and the first child that throws cancels its
    /// still-running siblings (each cancel recorded with reason `siblingFailure`, by the task that owns the
    /// group) and its error is rethrown. If `body` throws, the children still running are cancelled with reason
    /// `parent`.
    nonisolated(nonsending)
    public static func withThrowingTaskGroup<ChildResult: Sendable, GroupResult>(
        of childResultType: ChildResult.Type = ChildResult.self,
        returning returnType: GroupResult.Type = GroupResult.self,
        body: nonisolated(nonsending) (inout TracedThrowingTaskGroup<ChildResult>) async throws -> GroupResult
    ) async throws -> GroupResult {
        try await Swift.withThrowingTaskGroup(of: ChildResult.self, returning: GroupResult.self) { group in
            var traced = TracedThrowingTaskGroup(group: group)
            do {
                let result = try await body(&traced)
                try await traced.waitForAll()
                return result
            } catch {
                traced.recordCancelOfRunningChildren(reason: .parent)
                traced.group.cancelAll()
                throw error
            }
        }
    }
}

/// The group `CancelTrace.withThrowingTaskGroup` passes to its body. Use it only inside that body.
public struct TracedThrowingTaskGroup<ChildResult: Sendable> {
    var group: ThrowingTaskGroup<ChildResult, any Error>
    /// The task that owns the group, and the children it may still cancel; nil when recording was off.
    private let owner: TaskRecord?
    private let running: RunningChildren?

    init(group: ThrowingTaskGroup<ChildResult, any Error>) {
        self.group = group
        self.owner = TaskRecord.current
        self.running = CancelTrace.isEnabled ? RunningChildren() : nil
    }

    /// Adds a child task named `name`, recorded as a group child of the owning task.
    public mutating func addTask(
        name: String,
        priority: TaskPriority? = nil,
        operation: sending @escaping () async throws -> ChildResult
    ) {
        guard let running, let record = TaskRecord.spawn(name: name, how: .groupChild, parent: owner) else {
            group.addTask(priority: priority, operation: operation)
            return
        }
        running.insert(record)
        group.addTask(priority: priority) {
            defer { running.remove(record) }
            return try await TaskRecord.run(record, operation)
        }
    }

    /// The next child result in completion order, or nil when no child is left. When a child threw, its
    /// still-running siblings are cancelled (reason `siblingFailure`) before its error is rethrown.
    public mutating func next(isolation: isolated (any Actor)? = #isolation) async throws -> ChildResult? {
        do {
            return try await group.next(isolation: isolation)
        } catch {
            if !(error is CancellationError) {
                recordCancelOfRunningChildren(reason: .siblingFailure)
                group.cancelAll()
            }
            throw error
        }
    }

    /// Waits for every child; rethrows the first child error after cancelling the others.
    public mutating func waitForAll(isolation: isolated (any Actor)? = #isolation) async throws {
        var firstError: (any Error)?
        while !group.isEmpty {
            do {
                _ = try await next(isolation: isolation)
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
    }

    /// Cancels every child, recording the cancel of each one still running (by the owning task, for `reason`).
    public func cancelAll(reason: CancelReason = .explicit) {
        recordCancelOfRunningChildren(reason: reason)
        group.cancelAll()
    }

    /// Whether no child is left to await.
    public var isEmpty: Bool { group.isEmpty }

    func recordCancelOfRunningChildren(reason: CancelReason) {
        guard let running else { return }
        for child in running.snapshot() {
            child.recordCancel(by: owner, reason: reason)
        }
    }
}

/// The children of a traced group that have not ended, in spawn order.
private final class RunningChildren: Sendable {
    private let children = Mutex<[TaskID: TaskRecord]>([:])

    func insert(_ record: TaskRecord) { children.withLock { $0[record.id] = record } }
    func remove(_ record: TaskRecord) { children.withLock { _ = $0.removeValue(forKey: record.id) } }
    func snapshot() -> [TaskRecord] {
        children.withLock { $0.values.sorted { $0.id < $1.id } }
    }
}
