import TraceFormat

extension CancelTrace {
    /// `withTaskGroup`, with each child recorded as a traced group child of the current task. It behaves exactly
    /// as Swift's: after `body` returns, the group awaits its remaining children and discards their results.
    public static func withTaskGroup<ChildResult: Sendable, GroupResult>(
        of childResultType: ChildResult.Type = ChildResult.self,
        returning returnType: GroupResult.Type = GroupResult.self,
        isolation: isolated (any Actor)? = #isolation,
        body: (inout TracedTaskGroup<ChildResult>) async -> GroupResult
    ) async -> GroupResult {
        // `body` runs inside the group on the caller's actor, as Swift's groups run it. The wrapper closure must
        // be isolated to that actor too (else it hops to the global executor and back before `body`), and a
        // closure isolated to it may only capture `body` unchecked: it is called there and never escapes.
        await withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body  // safe: called only on `isolation`, before this call returns
            return await Swift.withTaskGroup(of: ChildResult.self, returning: GroupResult.self,
                                             isolation: isolation) { group in
                _ = isolation  // a closure is isolated to the caller's actor only when it captures it
                // safe: lent to `body` on this same actor
                nonisolated(unsafe) var traced = TracedTaskGroup(group: group, tracer: GroupTracer.make())
                return await body(&traced)
            }
        }
    }
}

/// The group `CancelTrace.withTaskGroup` passes to its body: `TaskGroup`'s API, with names. Use it only inside
/// that body.
public struct TracedTaskGroup<ChildResult: Sendable> {
    var group: TaskGroup<ChildResult>
    let tracer: GroupTracer?

    init(group: TaskGroup<ChildResult>, tracer: GroupTracer?) {
        self.group = group
        self.tracer = tracer
    }

    /// Adds a child task, named `name` or after the call site, recorded as a group child of the owning task.
    public mutating func addTask(
        name: String? = nil,
        priority: TaskPriority? = nil,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        operation: sending @escaping @isolated(any) () async -> ChildResult
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
        operation: sending @escaping @isolated(any) () async -> ChildResult
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

    /// The next child result in completion order, or nil when no child is left.
    public mutating func next(isolation: isolated (any Actor)? = #isolation) async -> ChildResult? {
        await group.next(isolation: isolation)
    }

    /// Waits for every child.
    public mutating func waitForAll(isolation: isolated (any Actor)? = #isolation) async {
        await group.waitForAll(isolation: isolation)
    }

    /// Cancels every child, recording the cancel of each one still running (by the owning task, for `reason`).
    public func cancelAll(reason: CancelReason = .explicit) {
        tracer?.recordCancelOfRunningChildren(reason: reason)
        group.cancelAll()
    }

    /// Whether the group was cancelled.
    public var isCancelled: Bool { group.isCancelled }

    /// Whether no child is left to await.
    public var isEmpty: Bool { group.isEmpty }
}

extension TracedTaskGroup: AsyncSequence {
    public typealias Element = ChildResult
    public typealias Failure = Never

    public func makeAsyncIterator() -> TaskGroup<ChildResult>.Iterator { group.makeAsyncIterator() }
}
