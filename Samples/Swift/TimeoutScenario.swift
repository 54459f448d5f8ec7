import TraceRecorder

/// asyncio.wait_for: the timeout cancels the slow operation (reason: timeout), waits for it to end, and the caller
/// gets TimeoutError. The caller itself was never cancelled, so handling the TimeoutError is correct.
///
///     try:
///         await asyncio.wait_for(slow_operation(), timeout=0.02)
///     except TimeoutError:
///         ...
enum TimeoutScenario {
    static func run() async throws {
        try await CancelTrace.withRootTask(name: "main") {
            // snippet: timeout
            do {
                try await CancelTrace.withTimeout(.milliseconds(20), name: "slow_operation") {
                    try await Task.sleep(for: .seconds(100))
                }
            } catch is TimeoutError {
                CancelTrace.mark("gave up on slow_operation")
            }
            // end-snippet
        }
    }
}
