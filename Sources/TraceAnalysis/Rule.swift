import TraceFormat

/// One check the analyzer knows. Each rule is one type in its own file, registered in `Rules.all`;
/// `Docs/Rules.md` and `check --list-rules` come from the same values.
public protocol Rule: Sendable {
    /// Stable id, shown as `warning[id]` and used in configuration. Never renamed.
    var id: String { get }
    var defaultLevel: Level { get }
    /// One line for rule listings.
    var summary: String { get }
    /// What the rule catches and why it matters, for `Docs/Rules.md`.
    var explanation: String { get }
    /// What to do, printed as `help:`.
    var help: String { get }
    /// The default threshold, for rules that have one.
    var defaultThreshold: UInt64? { get }

    /// Findings about one task, called once per task when it ends or when the trace ends.
    func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding]
}

extension Rule {
    public var defaultThreshold: UInt64? { nil }

    /// A finding of this rule with its configured level and help.
    /// The cancel request's cause comes first among the notes.
    func finding(_ task: TaskLifecycle, in context: RuleContext, time: UInt64, message: FindingText,
                 notes: [String] = [], cancel: CancelRequest? = nil, magnitude: UInt64 = 0) -> Finding {
        var finding = Finding(rule: id, level: context.configuration.level(for: self), task: task.id, taskName: task.name,
                time: time, text: message, otherNotes: notes, help: help, cancel: cancel, site: task.site)
        finding.magnitude = magnitude
        return finding
    }
}

/// What a rule may know beyond the task: the configuration and how the trace ended.
public struct RuleContext: Sendable {
    public var configuration: RuleConfiguration
    /// The last time in the trace.
    public var traceEnd: UInt64
    /// Whether the trace stopped early (not closed, or truncated): tasks still running may not have leaked.
    public var traceCutShort: Bool
    /// Chunks skipped as damaged (`TraceReader.damagedChunks`), when the task is checked at the trace's end: a
    /// task still running may have had its `end` in one of them. 0 for tasks checked when they ended.
    public var damagedChunks: Int

    public init(configuration: RuleConfiguration, traceEnd: UInt64, traceCutShort: Bool, damagedChunks: Int = 0) {
        self.configuration = configuration
        self.traceEnd = traceEnd
        self.traceCutShort = traceCutShort
        self.damagedChunks = damagedChunks
    }
}

/// Levels and thresholds chosen by the user; anything not set uses the rule's default.
public struct RuleConfiguration: Sendable {
    public var levels: [String: Level?] = [:]
    public var thresholds: [String: UInt64] = [:]
    /// Findings accepted for particular tasks (`check --allow`).
    public var suppressions: [Suppression] = []

    public init() {}

    /// Whether a suppression drops `finding`.
    public func suppresses(_ finding: Finding) -> Bool { suppressions.contains { $0.matches(finding) } }

    /// The level for `rule`, or nil when the user turned it off.
    public func level(for rule: some Rule) -> Level { (levels[rule.id] ?? nil) ?? rule.defaultLevel }
    public func isEnabled(_ rule: some Rule) -> Bool {
        if let setting = levels[rule.id] { return setting != nil }
        return true
    }
    public func threshold(for rule: some Rule) -> UInt64 { thresholds[rule.id] ?? rule.defaultThreshold ?? 0 }
}

/// The registry of rules, in the order they are documented.
public enum Rules {
    public static let all: [any Rule] = [
        SwallowedCancellation(),
        CancellationConverted(),
        FailedAfterCancel(),
        CompletedAfterCancel(),
        SlowCancellation(),
        CleanupFailed(),
        SlowCleanup(),
        LeakedTask(),
    ]

    public static func named(_ id: String) -> (any Rule)? { all.first { $0.id == id } }
}

/// A rule that can tell from a task's inline fields (`CompactTask`) that it has nothing to report, so that
/// `TraceAnalyzer` builds a `TaskLifecycle` and calls `check` only for the few tasks that may have a finding.
///
/// The promise: for an ended task that is `isQuiet` (no cancel request, no catch, no cleanup) the rule reports
/// nothing, and `mayReport` is not even asked; otherwise `mayReport` returns false only when `check` on the
/// task's lifecycle would return no finding. It may return true more often (it is only a filter).
protocol PrefilteredRule: Rule {
    /// `threshold` is `configuration.threshold(for: rule)`, looked up once per analysis. Static, so that the
    /// analyzer calls it through the rule's metatype without copying an existential per task.
    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool
}
