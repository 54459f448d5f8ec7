extension TaskLifecycle {
    /// Whether the recorder marked this task's findings of `rule` as deliberate, with a mark labelled
    /// `ignore all` or `ignore RULE[,RULE…]` (written by the Python recorder for `# canceltrace: ignore[…]`
    /// comments and its configuration, see Docs/Python.md "Suppressing a finding").
    func suppresses(_ rule: String) -> Bool {
        for mark in marks where mark.label.hasPrefix("ignore ") {
            if mark.label.dropFirst(7).split(separator: ",").contains(where: { $0 == "all" || $0 == rule }) {
                return true
            }
        }
        return false
    }
}
