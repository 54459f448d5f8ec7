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
