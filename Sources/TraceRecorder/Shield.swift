extension CancelTrace {
    /// Runs `operation` so that a cancel of the caller does not reach it — asyncio's `shield`.
    ///
    /// The operation runs as its own traced task (named `name` or after the call site, parent the caller). A cancel of the caller
    /// leaves it running; once it completes, a caller that was cancelled meanwhile throws `CancellationError`
    /// (the operation's value is then discarded, its side effects done). An error the operation throws is
    /// rethrown as is.
    public static func withShield<T: Sendable>(
        name: String? = nil,
        priority: TaskPriority? = nil,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        operation: sending @escaping () async throws -> T
    ) async throws -> T {
        let shielded = task(name: name, priority: priority, fileID: fileID, line: line,
                            function: function, operation: operation)
        // Awaiting an unstructured task's result does not forward the awaiting task's cancellation to it.
        let value = try await shielded.result.get()
        try Task.checkCancellation()
        return value
    }
}
