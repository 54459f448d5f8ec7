import TraceRecorder

/// `try? await Task.sleep` turns the CancellationError into nil: the loop keeps polling after the cancel and the
/// task returns normally without ever showing it saw the cancel. Expected finding: completed-after-cancel.
enum SwallowTrySleep {
    static func run() async throws {
        try await CancelTrace.withRootTask(name: "main") {
            let poller = CancelTrace.task(name: "poller") {
                for _ in 0..<10 {
                    CancelTrace.mark("poll")
                    try? await Task.sleep(for: .milliseconds(5))  // BUG: `try?` eats the cancellation
                }
            }
            try await Task.sleep(for: .milliseconds(12))
            poller.cancel()
            _ = await poller.result
        }
    }
}
