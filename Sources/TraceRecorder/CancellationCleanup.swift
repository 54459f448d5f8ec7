extension CancelTrace {
    /// Runs `operation`; if it throws `CancellationError`, records the catch, runs `cleanup`, records its
    /// result and rethrows the cancellation — the catch / clean up / re-raise pattern, recorded.
    ///
    /// ```swift
    /// try await CancelTrace.withCancellationCleanup {
    ///     try await connection.stream()
    /// } cleanup: {
    ///     await connection.close()
    /// }
    /// ```
    ///
    /// Cleanup runs in a task that is still cancelled: `Task.sleep` and other cancellable waits inside it throw at
    /// once. If `cleanup` throws, its error is recorded (`cleanup-end` threw) and the cancellation is still
    /// rethrown, so the task ends cancelled. Errors other than `CancellationError` pass through untouched.
    public static func withCancellationCleanup<T>(
        isolation: isolated (any Actor)? = #isolation,
        _ operation: () async throws -> T,
        cleanup: () async throws -> Void
    ) async throws -> T {
        do {
            return try await operation()
        } catch let cancellation as CancellationError {
            caught(cancellation)
            cleanupBegin()
            do {
                try await cleanup()
                cleanupEnd()
            } catch {
                cleanupEnd(error: error)
            }
            rethrow()
            throw cancellation
        }
    }
}
