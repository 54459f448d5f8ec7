import TraceRecorder

/// The seed page's first example, done right: `long_task` catches the cancellation, cleans up and re-raises.
///
///     async def long_task():
///         try:
///             await asyncio.sleep(100)
///         except asyncio.CancelledError:
///             print("Task cancelled — cleaning up")
///             raise  # must re-raise CancelledError
enum CancelCleanupRethrow {
    static func run() async throws {
        try await CancelTrace.withRootTask(name: "main") {
            // snippet: cancel-cleanup-rethrow
            let task = CancelTrace.task(name: "long_task") {
                try await CancelTrace.withCancellationCleanup {
                    try await Task.sleep(for: .seconds(100))
                } cleanup: {
                    await closeConnection()
                }
            }
            try await Task.sleep(for: .milliseconds(10))
            task.cancel()
            _ = await task.result  // ends cancelled: the cancellation went all the way out
            // end-snippet
        }
    }
}
