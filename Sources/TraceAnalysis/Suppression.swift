/// A finding the user accepted for one task or a family of tasks: `check --allow [RULE=]TASK`.
///
/// `task` is a task's name (exactly, or every name starting with the text before a trailing `*`) or its id
/// (`#7`). With a rule, only that rule's findings about the task are dropped; without one, all of them are.
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
        if task.hasSuffix("*") { return finding.taskName.hasPrefix(task.dropLast()) }
        return finding.taskName == task
    }
}
