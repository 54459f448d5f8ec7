/// A finding the user accepted for one task or a family of tasks: `check --allow [RULE=]TASK`.
///
/// `task` is a task's name or the site it was created at (exactly, or every one starting with the text before a
/// trailing `*`: `App/Poller.swift:*`), or its id (`#7`). With a rule, only that rule's findings about the task are dropped; without one, all of them are.
/// Suppressed findings are counted (`AnalysisReport.suppressedFindings`), never silently lost.
public struct Suppression: Sendable, Equatable {
    public var rule: String?
    public var task: String

    public init(rule: String? = nil, task: String) {
        self.rule = rule
        self.task = task
    }

    /// Whether this suppression drops `finding`.
    public func matches(_ finding: Finding) -> Bool {
        if let rule, rule != finding.rule { return false }
        if task.hasPrefix("#"), let id = UInt64(task.dropFirst()) { return finding.task == id }
        return matches(finding.taskName) || (!finding.site.isEmpty && matches(finding.site))
    }

    private func matches(_ text: String) -> Bool {
        task.hasSuffix("*") ? text.hasPrefix(task.dropLast()) : text == task
    }
}

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
