import TraceRecorder

/// asyncio.shield: `outer` is cancelled while its critical operation runs; the operation is not cancelled and
/// completes, then `outer` observes its own cancellation and ends cancelled.
///
///     async def outer():
///         return await asyncio.shield(critical_operation())
enum ShieldScenario {
    static func run() async throws {
        try await CancelTrace.withRootTask(name: "main") {
            // snippet: shield
            let outer = CancelTrace.task(name: "outer") {
                try await CancelTrace.withShield(name: "critical") {
                    try await Task.sleep(for: .milliseconds(30))  // e.g. commit a transaction
                }
            }
            // end-snippet
            try await Task.sleep(for: .milliseconds(10))
            outer.cancel()
            _ = await outer.result
        }
    }
}
