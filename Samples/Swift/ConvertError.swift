import TraceRecorder

/// The task catches its cancellation and throws a different error, so whoever awaits it sees a failure, not a
/// cancellation. Expected finding: cancellation-converted.
enum ConvertError {
    static func run() async throws {
        try await CancelTrace.withRootTask(name: "main") {
            let task = CancelTrace.task(name: "fetch") {
                do {
                    try await Task.sleep(for: .seconds(100))
                } catch let cancellation as CancellationError {
                    CancelTrace.caught(cancellation)
                    throw FetchFailed()  // BUG: the cancellation becomes a failure
                }
            }
            try await Task.sleep(for: .milliseconds(10))
            task.cancel()
            _ = await task.result
        }
    }
}

/// The error `fetch` throws instead of its cancellation.
struct FetchFailed: Error {}
