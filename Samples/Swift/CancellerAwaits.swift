import TraceRecorder

/// The seed page's `t.cancel(); await t`: main cancels its child, then awaits it, and the child's CancellationError
/// comes out of the await. Main itself was never cancelled, so catching that error is correct.
///
///     t = asyncio.create_task(work())
///     await asyncio.sleep(1)
///     t.cancel()
///     await t
enum CancellerAwaits {
    static func run() async throws {
        try await CancelTrace.withRootTask(name: "main") {
            // snippet: canceller-awaits
            let work = CancelTrace.task(name: "work") {
                try await Task.sleep(for: .seconds(100))
            }
            try await Task.sleep(for: .milliseconds(10))
            work.cancel()
            do {
                try await work.value
            } catch let error as CancellationError {
                CancelTrace.caught(error)  // the child's cancellation, not main's
            }
            // end-snippet
        }
    }
}
