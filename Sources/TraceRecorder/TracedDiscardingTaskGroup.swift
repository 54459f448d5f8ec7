import TraceFormat

extension CancelTrace {
    /// `withDiscardingTaskGroup`, with each child recorded as a traced group child of the current task. It
    /// behaves exactly as Swift's: children's results are discarded as they end; after `body` returns, the group
    /// awaits the children still running.
    public static func withDiscardingTaskGroup<GroupResult>(
        returning returnType: GroupResult.Type = GroupResult.self,
        isolation: isolated (any Actor)? = #isolation,
        body: (inout TracedDiscardingTaskGroup) async -> GroupResult
    ) async -> GroupResult {
        // `body` runs inside the group on the caller's actor, as Swift's groups run it. The wrapper closure must
        // be isolated to that actor too (else it hops to the global executor and back before `body`), and a
        // closure isolated to it may only capture `body` unchecked: it is called there and never escapes.
        await withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body  // safe: called only on `isolation`, before this call returns
            return await Swift.withDiscardingTaskGroup(returning: GroupResult.self, isolation: isolation) { group in
                _ = isolation  // a closure is isolated to the caller's actor only when it captures it
                // safe: lent to `body` on this same actor
                nonisolated(unsafe) var traced = TracedDiscardingTaskGroup(group: group, tracer: GroupTracer.make())
                return await body(&traced)
            }
        }
    }
}

/// The group `CancelTrace.withDiscardingTaskGroup` passes to its body: `DiscardingTaskGroup`'s API, with names.
/// Use it only inside that body.
public struct TracedDiscardingTaskGroup {
    var group: DiscardingTaskGroup
    let tracer: GroupTracer?

    init(group: DiscardingTaskGroup, tracer: GroupTracer?) {
        self.group = group
        self.tracer = tracer
    }

    /// Adds a child task, named `name` or after the call site, recorded as a group child of the owning task.
    public mutating func addTask(
        name: String? = nil,
        priority: TaskPriority? = nil,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        operation: sending @escaping @isolated(any) () async -> Void
    ) {
        guard let tracer, let record = tracer.spawnChild(
            name: name, site: CallSite(fileID: fileID, line: line, function: function)
        ) else {
            group.addTask(priority: priority, operation: operation)
            return
        }
        group.addTask(priority: priority) {
            await tracer.runChild(record, cancelsSiblingsOnFailure: false, operation)
        }
    }

    /// Adds a child task unless the group is cancelled; returns whether it did. A refused child is not recorded.
    public mutating func addTaskUnlessCancelled(
        name: String? = nil,
        priority: TaskPriority? = nil,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        operation: sending @escaping @isolated(any) () async -> Void
    ) -> Bool {
        guard let tracer, !group.isCancelled, let record = tracer.spawnChild(
            name: name, site: CallSite(fileID: fileID, line: line, function: function)
        ) else {
            return group.addTaskUnlessCancelled(priority: priority, operation: operation)
        }
        let added = group.addTaskUnlessCancelled(priority: priority) {
            await tracer.runChild(record, cancelsSiblingsOnFailure: false, operation)
        }
        if !added { tracer.childRefused(record) }
        return added
    }

    /// Cancels every child, recording the cancel of each one still running (by the owning task, for `reason`).
    public func cancelAll(reason: CancelReason = .explicit) {
        tracer?.recordCancelOfRunningChildren(reason: reason)
        group.cancelAll()
    }

    /// Whether the group was cancelled.
    public var isCancelled: Bool { group.isCancelled }
}
