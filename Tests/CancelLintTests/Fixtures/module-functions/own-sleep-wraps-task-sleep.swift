// The module's own `sleep(for:)` awaits `Task.sleep` under `try`: it throws CancellationError, so `try?` on it is
// flagged as for the standard one.
struct Ticker {
    func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }

    func poll() async {
        while true {
            try? await sleep(for: .seconds(1))  // expect: try-optional-cancellable
            await refresh()
        }
    }
}
