import TraceFormat

/// Reads a whole trace once, rebuilds its tasks and runs the rules over each as it ends.
///
/// Memory is bounded by the tasks alive at once (and by the tasks kept, when a caller asks for them), not by the
/// trace's length. Nothing here prints: renderers turn the report into text.
public struct TraceAnalyzer: Sendable {
    public var configuration: RuleConfiguration
    public var rules: [any Rule]
    /// Findings kept in the report; more are counted in `AnalysisReport.elidedFindings`.
    public var maxFindings = 100_000
    /// Lifecycles kept in the report when `keepTasks` is set; more are counted in `AnalysisReport.elidedTasks`.
    /// Each `end` record of a task never seen is a new task, and such records compress about a thousandfold, so
    /// without this a small file could make `tasks` grow without bound.
    public var maxKeptTasks = 1_000_000

    public init(configuration: RuleConfiguration = RuleConfiguration(), rules: [any Rule] = Rules.all) {
        self.configuration = configuration
        self.rules = rules.filter { configuration.isEnabled($0) }
    }

    /// Analyzes everything `reader` yields.
    /// - Parameters:
    ///   - keepTasks: keep every lifecycle in the report (for timelines); otherwise only findings and stats.
    ///   - onProgress: called now and then with the bytes read so far.
    public func analyze(_ reader: TraceReader, keepTasks: Bool = false,
                        onProgress: ((UInt64) -> Void)? = nil) throws(TraceReadError) -> AnalysisReport {
        var tracker = TaskTracker()
        var report = AnalysisReport()
        var pending: [TaskLifecycle] = []
        while let event = try reader.next() {
            report.stats.events += 1
            if let ended = tracker.consume(event, strings: reader.strings) { pending.append(ended) }
            if pending.count >= 4096 {
                // Rules need the trace's end only for tasks that never end, so ended tasks are checked as they come.
                for task in pending { examine(task, into: &report, keepTasks: keepTasks, traceEnd: tracker.lastTime, cutShort: false) }
                pending.removeAll(keepingCapacity: true)
            }
            if report.stats.events & 0xFFFFF == 0 { onProgress?(reader.bytesConsumed) }
        }
        onProgress?(reader.bytesConsumed)
        report.notices = reader.notices
        report.elidedNotices = reader.elidedNotices
        report.info = reader.info
        report.traceEnd = tracker.lastTime
        report.cutShort = !reader.sawClose
        report.damaged = reader.sawDamage
        for task in pending + tracker.finish() {
            examine(task, into: &report, keepTasks: keepTasks, traceEnd: report.traceEnd, cutShort: report.cutShort)
        }
        report.stats.peakLiveTasks = tracker.peakLiveCount
        report.stats.droppedEvents = tracker.droppedEvents
        report.tasksWithoutSpawn = tracker.tasksWithoutSpawn
        report.duplicateSpawns = tracker.duplicateSpawns
        report.findings.sort { ($0.time, $0.task, $0.rule) < ($1.time, $1.task, $1.rule) }
        if keepTasks { report.tasks.sort { ($0.firstSeen, $0.id) < ($1.firstSeen, $1.id) } }
        return report
    }

    private func examine(_ task: TaskLifecycle, into report: inout AnalysisReport, keepTasks: Bool,
                         traceEnd: UInt64, cutShort: Bool) {
        report.stats.add(task)
        let context = RuleContext(configuration: configuration, traceEnd: traceEnd, traceCutShort: cutShort)
        for rule in rules {
            for finding in rule.check(task, in: context) {
                report.findingCounts[finding.rule, default: 0] += 1
                if report.findings.count < maxFindings { report.findings.append(finding) } else { report.elidedFindings += 1 }
            }
        }
        if keepTasks {
            if report.tasks.count < maxKeptTasks { report.tasks.append(task) } else { report.elidedTasks += 1 }
        }
    }
}

/// Everything one pass over a trace found.
public struct AnalysisReport: Sendable {
    /// Sorted by time, then task.
    public var findings: [Finding] = []
    /// Findings per rule id, including elided ones.
    public var findingCounts: [String: Int] = [:]
    public var elidedFindings = 0
    /// Every task, in order of first appearance, when the analysis kept them.
    public var tasks: [TaskLifecycle] = []
    /// Tasks past `TraceAnalyzer.maxKeptTasks`, counted in the stats but not kept.
    public var elidedTasks = 0
    public var stats = TraceStats()
    public var notices: [ReadNotice] = []
    /// Damage notices past the reader's `TraceReader.maxNotices`, counted but not kept.
    public var elidedNotices = 0
    public var info = TraceInfo()
    public var traceEnd: UInt64 = 0
    /// The trace was not closed by its recorder, or the file was truncated.
    public var cutShort = false
    /// Chunks or records were lost to damage.
    public var damaged = false
    public var tasksWithoutSpawn = 0
    public var duplicateSpawns = 0

    public init() {}

    /// The most serious level among the findings, if any.
    public var highestLevel: Level? { findings.map(\.level).max() }
}
