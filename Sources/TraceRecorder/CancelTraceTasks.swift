import TraceFormat

extension CancelTrace {
    /// Records the current async context as a root task, so that tasks started inside have a parent. Named
    /// `name` (typically `"main"`), or after the call site. Its end is recorded with `body`'s outcome.
    public static func withRootTask<T>(
        name: String? = nil,
        isolation: isolated (any Actor)? = #isolation,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        _ body: () async throws -> T
    ) async rethrows -> T {
        let record = isEnabled
            ? TaskRecord.spawn(name: name, site: CallSite(fileID: fileID, line: line, function: function), how: .root)
            : nil
        return try await TaskRecord.run(record, body)
    }

    // `task` and `detached` return the plain `Task` the equivalent `Task { }` would, so a traced task goes
    // wherever a `Task` goes (stored `Task<Void, Never>?` properties, `[Task<T, Error>]`, `.value` that throws
    // only for a throwing operation). The cancel's cause is still recorded: see `TaskRecord.cancellationDelivered`.
    // Like `Task.init`, `task` takes an `@_inheritActorContext` operation, so a closure written in a `@MainActor`
    // type runs on the main actor; the wrapper that records the task's end starts on that same actor (it captures
    // the caller's isolation when the operation has it), so the task is enqueued where `Task { }` would be.

    /// Starts an unstructured task, like `Task { }` (and inheriting the caller's actor the same way), recorded as
    /// a child of the current traced task, named `name` or after the call site. Its end is recorded for you:
    /// returned, cancelled (it threw `CancellationError`) or failed.
    @discardableResult
    public static func task<Success: Sendable>(
        name: String? = nil,
        priority: TaskPriority? = nil,
        isolation: isolated (any Actor)? = #isolation,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        @_inheritActorContext @_implicitSelfCapture operation: sending @escaping @isolated(any) () async throws -> Success
    ) -> Task<Success, any Error> {
        let parent = isEnabled ? TaskRecord.current : nil  // off: no task-local lookup
        guard isEnabled, let record = TaskRecord.spawn(
            name: name, site: CallSite(fileID: fileID, line: line, function: function), how: .unstructured,
            parent: parent
        ) else {
            return Task(priority: priority, operation: operation)
        }
        // Under a traced task the new task copies the creator's task-locals anyway; bound here for the moment
        // `Task` copies them, its `current` is already its own record and it pushes no second binding.
        let bound = parent != nil
        // `operation` is sent into the `Task` made inside, as the plain path sends it; the closure in between
        // is synchronous and non-escaping, which region checking cannot see through.
        nonisolated(unsafe) let operation = operation
        return TaskRecord.bindingIf(bound, record) {
            if let actor = isolationOf(operation), actor === isolation {
                return Task(priority: priority) {
                    _ = isolation  // starts on the caller's actor, where the operation runs
                    // A closure on that actor too (it names `isolation`), not `operation` converted to run's
                    // plain function type, whose thunk would hop to the global executor before the operation
                    // hops back.
                    return try await TaskRecord.run(record, bound: bound) { _ = isolation; return try await operation() }
                }
            }
            return Task(priority: priority) { try await TaskRecord.run(record, bound: bound, operation) }
        }
    }

    /// `task(name:priority:operation:)` for an operation that cannot throw: returns a `Task<Success, Never>`.
    @discardableResult
    public static func task<Success: Sendable>(
        name: String? = nil,
        priority: TaskPriority? = nil,
        isolation: isolated (any Actor)? = #isolation,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        @_inheritActorContext @_implicitSelfCapture operation: sending @escaping @isolated(any) () async -> Success
    ) -> Task<Success, Never> {
        let parent = isEnabled ? TaskRecord.current : nil  // as above
        guard isEnabled, let record = TaskRecord.spawn(
            name: name, site: CallSite(fileID: fileID, line: line, function: function), how: .unstructured,
            parent: parent
        ) else {
            return Task(priority: priority, operation: operation)
        }
        let bound = parent != nil  // as above
        nonisolated(unsafe) let operation = operation
        return TaskRecord.bindingIf(bound, record) {
            if let actor = isolationOf(operation), actor === isolation {
                return Task(priority: priority) {
                    _ = isolation  // as above: no hop off the actor before the operation starts
                    return await TaskRecord.run(record, bound: bound) { _ = isolation; return await operation() }
                }
            }
            return Task(priority: priority) { await TaskRecord.run(record, bound: bound, operation) }
        }
    }

    /// Starts a detached task, like `Task.detached { }`; its recorded parent is the task that started it.
    @discardableResult
    public static func detached<Success: Sendable>(
        name: String? = nil,
        priority: TaskPriority? = nil,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        operation: sending @escaping @isolated(any) () async throws -> Success
    ) -> Task<Success, any Error> {
        guard isEnabled, let record = TaskRecord.spawn(
            name: name, site: CallSite(fileID: fileID, line: line, function: function), how: .detached
        ) else {
            return Task.detached(priority: priority, operation: operation)
        }
        return Task.detached(priority: priority) { try await TaskRecord.run(record, operation) }
    }

    /// `detached(name:priority:operation:)` for an operation that cannot throw: returns a `Task<Success, Never>`.
    @discardableResult
    public static func detached<Success: Sendable>(
        name: String? = nil,
        priority: TaskPriority? = nil,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        operation: sending @escaping @isolated(any) () async -> Success
    ) -> Task<Success, Never> {
        guard isEnabled, let record = TaskRecord.spawn(
            name: name, site: CallSite(fileID: fileID, line: line, function: function), how: .detached
        ) else {
            return Task.detached(priority: priority, operation: operation)
        }
        return Task.detached(priority: priority) { await TaskRecord.run(record, operation) }
    }

    /// The actor an `@isolated(any)` operation runs on. (Reading `.isolation` of a `sending` parameter directly
    /// crashes the Swift 6.3 compiler; through an escaping parameter it does not.)
    private static func isolationOf<T>(_ operation: @escaping @isolated(any) () async throws -> T) -> (any Actor)? {
        operation.isolation
    }
}

extension Task {
    /// Cancels the task, and when it is a traced task records `reason` as the cause (by the current traced
    /// task). Plain `cancel()` records the reason `explicit`.
    public func cancel(reason: CancelReason) {
        TaskRecord.$cancelReason.withValue(reason) { cancel() }
    }
}
