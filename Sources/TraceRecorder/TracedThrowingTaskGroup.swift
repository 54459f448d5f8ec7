import TraceFormat

extension CancelTrace {
    /// `withThrowingTaskGroup`, with each child recorded as a traced group child of the current task.
    ///
    /// It behaves exactly as Swift's: the group awaits its remaining children after `body` returns and discards
    /// their results and errors; when `body` throws, the children still running are cancelled (recorded with
    /// reason `siblingFailure` when `body` saw a child fail, else `parent`), awaited, and `body`'s error is
    /// rethrown. A child's error reaches the body only through `next()`, `waitForAll()` or `for try await`.
    public static func withThrowingTaskGroup<ChildResult: Sendable, GroupResult>(
        of childResultType: ChildResult.Type = ChildResult.self,
        returning returnType: GroupResult.Type = GroupResult.self,
        isolation: isolated (any Actor)? = #isolation,
        body: (inout TracedThrowingTaskGroup<ChildResult>) async throws -> GroupResult
    ) async rethrows -> GroupResult {
        // `body` runs inside the group on the caller's actor, as Swift's groups run it. The wrapper closure must
        // be isolated to that actor too (else it hops to the global executor and back before `body`), and a
        // closure isolated to it may only capture `body` unchecked: it is called there and never escapes.
        try await withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body  // safe: called only on `isolation`, before this call returns
            return try await Swift.withThrowingTaskGroup(of: ChildResult.self, returning: GroupResult.self,
                                                         isolation: isolation) { group in
                _ = isolation  // a closure is isolated to the caller's actor only when it captures it
                // safe: lent to `body` on this same actor
                nonisolated(unsafe) var traced = TracedThrowingTaskGroup(group: group, tracer: GroupTracer.make())
                do {
                    return try await body(&traced)
                } catch {
                    traced.tracer?.bodyThrew()
                    throw error
                }
            }
        }
    }
}

/// The group `CancelTrace.withThrowingTaskGroup` passes to its body: `ThrowingTaskGroup`'s API, with names.
/// Use it only inside that body.
public struct TracedThrowingTaskGroup<ChildResult: Sendable> {
    var group: ThrowingTaskGroup<ChildResult, any Error>
    let tracer: GroupTracer?

    init(group: ThrowingTaskGroup<ChildResult, any Error>, tracer: GroupTracer?) {
        self.group = group
        self.tracer = tracer
    }

    /// Adds a child task, named `name` or after the call site, recorded as a group child of the owning task.
    public mutating func addTask(
        name: String? = nil,
        priority: TaskPriority? = nil,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        operation: sending @escaping @isolated(any) () async throws -> ChildResult
    ) {
        guard let tracer, let record = tracer.spawnChild(
            name: name, site: CallSite(fileID: fileID, line: line, function: function)
        ) else {
            group.addTask(priority: priority, operation: operation)
            return
        }
        group.addTask(priority: priority) {
            try await tracer.runChild(record, cancelsSiblingsOnFailure: false, operation)
        }
    }

    /// Adds a child task unless the group is cancelled; returns whether it did. A refused child is not recorded.
    public mutating func addTaskUnlessCancelled(
        name: String? = nil,
        priority: TaskPriority? = nil,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        operation: sending @escaping @isolated(any) () async throws -> ChildResult
    ) -> Bool {
        guard let tracer, !group.isCancelled, let record = tracer.spawnChild(
            name: name, site: CallSite(fileID: fileID, line: line, function: function)
        ) else {
            return group.addTaskUnlessCancelled(priority: priority, operation: operation)
        }
        let added = group.addTaskUnlessCancelled(priority: priority) {
            try await tracer.runChild(record, cancelsSiblingsOnFailure: false, operation)
        }
        if !added { tracer.childRefused(record) }
        return added
    }

    /// The next child result in completion order, or nil when no child is left; throws a child's error.
    public mutating func next(isolation: isolated (any Actor)? = #isolation) async throws -> ChildResult? {
        do {
            return try await group.next(isolation: isolation)
        } catch {
            tracer?.noteChildError(error)
            throw error
        }
    }

    /// The next child's result (value or error) in completion order, or nil when no child is left.
    public mutating func nextResult(isolation: isolated (any Actor)? = #isolation) async -> Result<ChildResult, any Error>? {
        let result = await group.nextResult(isolation: isolation)
        if case let .failure(error)? = result { tracer?.noteChildError(error) }
        return result
    }

    /// Waits for every child; then throws the first child error, if any. Cancels nothing.
    public mutating func waitForAll(isolation: isolated (any Actor)? = #isolation) async throws {
        do {
            try await group.waitForAll(isolation: isolation)
        } catch {
            tracer?.noteChildError(error)
            throw error
        }
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

extension TracedThrowingTaskGroup: AsyncSequence {
    public typealias Element = ChildResult
    public typealias Failure = any Error

    public func makeAsyncIterator() -> Iterator {
        Iterator(base: group.makeAsyncIterator(), tracer: tracer)
    }

    /// `ThrowingTaskGroup.Iterator`: child results in completion order; after a child's error, it ends.
    public struct Iterator: AsyncIteratorProtocol {
        var base: ThrowingTaskGroup<ChildResult, any Error>.Iterator
        let tracer: GroupTracer?

        public mutating func next() async throws -> ChildResult? {
            do {
                return try await base.next()
            } catch {
                tracer?.noteChildError(error)
                throw error
            }
        }

        public mutating func next(isolation actor: isolated (any Actor)?) async throws(any Error) -> ChildResult? {
            do {
                return try await base.next(isolation: actor)
            } catch {
                tracer?.noteChildError(error)
                throw error
            }
        }
    }
}
