// A module that declares its own `sleep(for:)` which cannot throw CancellationError (typed throws): `try?` on it
// drops no cancellation. Another module's `sleep` that wraps `Task.sleep` is in own-sleep-wraps-task-sleep.swift.
enum TimerError: Error { case stopped }

struct Ticker {
    var stopped = false

    func sleep(for duration: Duration) async throws(TimerError) {
        if stopped { throw .stopped }
        await Pacer.shared.wait(duration)
    }

    func poll() async {
        while true {
            try? await sleep(for: .seconds(1))
            await refresh()
        }
    }

    // `Task.sleep` is never the module's own function.
    func pollTask() async {
        while true {
            try? await Task.sleep(for: .seconds(1))  // expect: try-optional-cancellable
            await refresh()
        }
    }
}
