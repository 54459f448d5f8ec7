// Suppression comments: on the line, on the line above, every rule or named rules.
func suppressedOnLine() async {
    while true {
        try? await Task.sleep(for: .seconds(1))  // canceltrace:ignore try-optional-cancellable -- the loop is a daemon
        refresh()
    }
}

func suppressedAbove() async {
    do {
        try await server.run()
    // canceltrace:ignore
    } catch {
        print("\(error)")
    }
}

func otherRuleNamed() async {
    try? await Task.sleep(for: .seconds(1))  // canceltrace:ignore catch-swallows-cancellation  // expect: try-optional-cancellable
    await work()
}
