// Positive: `try?` on a call that throws on cancellation, and the task goes on.
func pollForever() async {
    while true {
        try? await Task.sleep(for: .seconds(1))  // expect: try-optional-cancellable
        refresh()
    }
}

func sleepThenWork() async {
    try? await Task.sleep(nanoseconds: 1_000_000)  // expect: try-optional-cancellable
    await expensiveWork()
}

func clockSleepInLoop(clock: ContinuousClock) async {
    for item in items {
        process(item)
        _ = try? await clock.sleep(for: .milliseconds(5))  // expect: try-optional-cancellable
    }
}

func checkIgnored() async {
    try? Task.checkCancellation()  // expect: try-optional-cancellable
    await upload()
}

func nestedInIf(flag: Bool) async {
    if flag {
        try? await Task.sleep(for: .seconds(1))  // expect: try-optional-cancellable
    }
    await send()
}
