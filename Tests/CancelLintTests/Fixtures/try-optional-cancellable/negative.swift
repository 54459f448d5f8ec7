// Negative: the wait ends the function, or cancellation is checked right after, or the loop stops on its own.
func lastStatement() async {
    await prepare()
    try? await Task.sleep(for: .seconds(1))
}

func checkedAfter() async {
    try? await Task.sleep(for: .seconds(1))
    guard !Task.isCancelled else { return }
    await expensiveWork()
}

func loopConditionChecks() async {
    while !Task.isCancelled {
        refresh()
        try? await Task.sleep(for: .seconds(1))
    }
}

func forAwaitLoopEndsOnCancel(stream: AsyncStream<Int>) async {
    for await value in stream {
        handle(value)
        try? await Task.sleep(for: .milliseconds(10))
    }
}

func returnsAfter() async -> Int {
    try? await Task.sleep(for: .seconds(1))
    return 0
}

func propagates() async throws {
    try await Task.sleep(for: .seconds(1))
    await expensiveWork()
}

func otherCallNotListed() async {
    try? await fetchSomething()
    await expensiveWork()
}
