// Suppression comments (spelled as in the Python recorder): on the line or the line above, every rule or named rules.
func suppressedOnLine() async {
    while true {
        try? await Task.sleep(for: .seconds(1))  // canceltrace: ignore[try-optional-cancellable] daemon loop
        refresh()
    }
}

func suppressedAbove() async {
    do {
        try await server.run()
    // canceltrace: ignore
    } catch {
        print("\(error)")
    }
}

func otherRuleNamed() async {
    try? await Task.sleep(for: .seconds(1))  // canceltrace: ignore[catch-swallows-cancellation]  // expect: try-optional-cancellable
    await work()
}

func notTheMarker() async {
    try? await Task.sleep(for: .seconds(1))  // canceltrace: ignored  // expect: try-optional-cancellable
    await work()
}
