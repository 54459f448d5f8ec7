import TraceRecorder

/// A bare `except:` in Python, a catch-all `catch` in Swift: it catches the cancellation, and the task returns
/// normally as if it had finished its work. Expected finding: swallowed-cancellation.
enum SwallowCatchAll {
    static func run() async throws {
        try await CancelTrace.withRootTask(name: "main") {
            // snippet: swallow-catch-all
            let task = CancelTrace.task(name: "long_task") {
                do {
                    try await Task.sleep(for: .seconds(100))
                } catch {
                    CancelTrace.caught(error)
                    // BUG: nothing rethrows, so the task returns normally after being cancelled.
                }
            }
            // end-snippet
            try await Task.sleep(for: .milliseconds(10))
            task.cancel()
            _ = await task.result
        }
    }
}
