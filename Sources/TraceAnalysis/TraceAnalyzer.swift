import TraceFormat

/// Reads a whole trace once, rebuilds its tasks and runs the rules over each as it ends.
///
/// Memory is bounded by the tasks alive at once (and by the tasks kept, when a caller asks for them), not by the
/// trace's length. Nothing here prints: renderers turn the report into text.
public struct TraceAnalyzer: Sendable {
    public var configuration: RuleConfiguration
    /// The rules to run; those the configuration turns off are skipped when `analyze` runs.
    public var rules: [any Rule]
    /// Findings kept in the report; more are counted in `AnalysisReport.elidedFindings`.
    public var maxFindings = 100_000
    /// False: keep of each finding only its task and level (`AnalysisReport.findingLevels`), all a text timeline
    /// shows of it.
    public var keepsFindingText = true
    /// With `keepsFindingText` false: still keep the text of the first this many findings in the report's order
    /// and of every finding about a task whose lifecycle is kept (`TaskKeeping.outline`, `.only`), each with its
    /// number among all (`AnalysisReport.findingNumbers`): what a timeline picture lists and badges. nil: none.
    public var textOfFirstFindings: Int?
    /// Lifecycles kept in the report when `keepTasks` is set; more are counted in `AnalysisReport.elidedTasks`.
    /// Each `end` record of a task never seen is a new task, and such records compress about a thousandfold, so
    /// without this a small file could make `tasks` grow without bound.
    public var maxKeptTasks = 1_000_000
    /// Tasks alive at once that the analysis tracks (`TaskTracker.maxLiveTasks`); more are counted in
    /// `AnalysisReport.untrackedTasks`.
    public var maxLiveTasks = 1_000_000

    public init(configuration: RuleConfiguration = RuleConfiguration(), rules: [any Rule] = Rules.all) {
        self.configuration = configuration
        self.rules = rules
    }

    /// Analyzes everything `reader` yields.
    /// - Parameters:
    ///   - keepTasks: keep every lifecycle in the report (for timelines); otherwise only findings and stats.
    ///   - onProgress: called now and then with the bytes read so far.
    ///   - onTask: called with each task's lifecycle as the analysis is done with it (when it ends, or at the end
    ///     of the trace) and the time so far: a streaming exporter's input, in memory bounded by the live tasks.
    public func analyze(_ reader: TraceReader, keepTasks: Bool = false,
                        onProgress: ((UInt64) -> Void)? = nil,
                        onTask: ((TaskLifecycle, _ now: UInt64) -> Void)? = nil) throws(TraceReadError) -> AnalysisReport {
        try analyze(reader, keeping: keepTasks ? .all : .none, onProgress: onProgress, onTask: onTask)
    }

    /// Analyzes everything `reader` yields, keeping of the tasks what `keeping` says (`.outline` for timelines:
    /// every task in a few bytes, full lifecycles only for some). `onTask` as above.
    public func analyze(_ reader: TraceReader, keeping: TaskKeeping,
                        onProgress: ((UInt64) -> Void)? = nil,
                        onTask: ((TaskLifecycle, _ now: UInt64) -> Void)? = nil) throws(TraceReadError) -> AnalysisReport {
        let keepTasks: Bool
        var collector: OutlineCollector?
        switch keeping {
        case .none: keepTasks = false
        case .all: keepTasks = true
        case let .outline(retention):
            keepTasks = false
            collector = OutlineCollector(retention: retention, buildsOutline: true, maxTasks: maxKeptTasks)
        case let .only(ids):
            keepTasks = false
            collector = OutlineCollector(retention: OutlineRetention(perSiblingName: 0, maxKept: 0, ids: ids),
                                         buildsOutline: false, maxTasks: maxKeptTasks)
        }
        let rules = rules.filter { configuration.isEnabled($0) }
        // When every rule can prefilter, a task that ended without a detailed lifecycle is counted from its inline
        // fields and gets a `TaskLifecycle` and rule calls only when some rule may report it.
        let prefiltered = rules.allSatisfy { $0 is any PrefilteredRule }
        var pass = Pass(analyzer: self, reader: reader, rules: rules, ruleBits: rules.map(BuiltInPrefilter.bit(for:)),
                        prefilter: BuiltInPrefilter(configuration: configuration),
                        prefiltering: !keepTasks && onTask == nil && prefiltered, keepTasks: keepTasks,
                        onTask: onTask, collector: collector)
        if !keepsFindingText, let first = textOfFirstFindings { pass.report.findingSelection = FindingSelection(first: first) }
        pass.tracker.maxLiveTasks = maxLiveTasks
        let eventsBefore = reader.eventCount
        var progressMark = eventsBefore
        while true {
            pass.tracker.makeUnique()
            guard try reader.nextEvents(to: &pass) else { break }
            if reader.eventCount - progressMark >= 0x100000 {
                progressMark = reader.eventCount
                onProgress?(reader.bytesConsumed)
            }
        }
        // Moved out of the pass, not copied (a copy would be copied again on the first write).
        var tracker = TaskTracker()
        swap(&tracker, &pass.tracker)
        var report = AnalysisReport()
        swap(&report, &pass.report)
        report.stats.events = reader.eventCount - eventsBefore
        onProgress?(reader.bytesConsumed)
        report.notices = reader.notices
        report.elidedNotices = reader.elidedNotices
        report.info = reader.info
        report.traceEnd = tracker.lastTime
        report.cutShort = !reader.sawClose
        report.damaged = reader.sawDamage
        report.damagedChunks = reader.damagedChunks
        var collected = pass.collector
        pass.collector = nil
        collected?.noteLive(tracker.liveSlots())
        for task in tracker.finish(strings: reader.strings) {
            examine(task, rules: rules, into: &report, keepTasks: keepTasks, traceEnd: report.traceEnd,
                    cutShort: report.cutShort, damagedChunks: report.damagedChunks,
                    aboutKeptTask: collected?.retains(live: task) ?? false)
            onTask?(task, report.traceEnd)
            collected?.add(task, into: &report)
        }
        // Finished in place: `if var collected` would copy the collector and with it every outline column.
        if collected?.buildsOutline == true {
            report.outline = collected?.finishedOutline()  // optional chaining mutates in place too
        } else if collected != nil {
            report.tasks.sort { ($0.firstSeen, $0.id) < ($1.firstSeen, $1.id) }
        }
        report.stats.peakLiveTasks = tracker.peakLiveCount
        report.stats.droppedEvents = tracker.droppedEvents
        report.tasksWithoutSpawn = tracker.tasksWithoutSpawn
        report.untrackedTasks = tracker.untrackedTasks
        report.duplicateSpawns = tracker.duplicateSpawns
        report.recordsAfterEnd = tracker.recordsAfterEnd
        Self.sortByTime(&report.findings)
        if let selection = report.findingSelection {
            report.findingSelection = nil
            (report.findings, report.findingNumbers) = selection.finished()
        }
        if report.info[TraceInfo.Key.runtime] == "python" { Self.speakPython(&report.findings, rules: rules) }
        if keepTasks {
            // Sort positions, then permute in place, one swap per task: sorting the large values themselves moves
            // each many times and needs a buffer of half of them.
            var order = report.tasks.indices.sorted {
                (report.tasks[$0].firstSeen, report.tasks[$0].id) < (report.tasks[$1].firstSeen, report.tasks[$1].id)
            }
            Self.permute(&report.tasks, to: &order)
        }
        return report
    }

    /// One analysis: folds each event into the tracker as the reader decodes it, and examines each task as it
    /// ends (rules need the trace's end only for tasks that never end).
    private struct Pass: TraceEventVisitor {
        let analyzer: TraceAnalyzer
        let reader: TraceReader
        let rules: [any Rule]
        /// Each rule's bit in what `prefilter` returns.
        let ruleBits: [UInt16]
        let prefilter: BuiltInPrefilter
        let prefiltering: Bool
        let keepTasks: Bool
        let onTask: ((TaskLifecycle, UInt64) -> Void)?
        let collecting: Bool
        var tracker = TaskTracker()
        var report = AnalysisReport()
        var collector: OutlineCollector?
        /// The lifecycle of each prefiltered task a rule may report, rebuilt in place (`TaskTracker.writeLifecycle`).
        var checked = TaskLifecycle(id: 0, firstSeen: 0)

        init(analyzer: TraceAnalyzer, reader: TraceReader, rules: [any Rule], ruleBits: [UInt16], prefilter: BuiltInPrefilter,
             prefiltering: Bool, keepTasks: Bool, onTask: ((TaskLifecycle, UInt64) -> Void)?,
             collector: OutlineCollector?) {
            self.collector = collector
            self.collecting = collector != nil
            self.analyzer = analyzer
            self.reader = reader
            self.rules = rules
            self.ruleBits = ruleBits
            self.prefilter = prefilter
            self.prefiltering = prefiltering
            self.keepTasks = keepTasks
            self.onTask = onTask
        }

        @inline(__always)
        mutating func visit(_ event: TraceEvent) {
            let slot = tracker.fold(event, strings: reader.strings)
            if collecting && event.kind == .spawn, let live = tracker.slot(of: event.task) {
                collector!.noteSpawn(event, slot: live, strings: reader.strings)  // safe: `collecting` means non-nil
            }
            guard slot >= 0 else { return }
            ended(slot)
            tracker.release(slot)
        }

        private mutating func ended(_ slot: Int32) {
            if collecting { return collect(slot) }
            let task = tracker.task(inSlot: slot)
            if prefiltering && task.pointee.detail < 0 {
                // Read in place, through the pointer: a copy of the 208-byte task cost more than counting it.
                let asking = TraceAnalyzer.countAndPrefilter(task, prefilter: prefilter, stats: &report.stats)
                guard asking != 0 else { return }
                tracker.writeLifecycle(slot, into: &checked, strings: reader.strings)
                analyzer.check(checked, rules: rules, into: &report, traceEnd: tracker.lastTime, cutShort: false,
                               asking: asking, ruleBits: ruleBits)
            } else {
                let lifecycle = tracker.takeLifecycle(slot, strings: reader.strings)
                analyzer.examine(lifecycle, rules: rules, into: &report, keepTasks: keepTasks, traceEnd: tracker.lastTime,
                                 cutShort: false)
                onTask?(lifecycle, tracker.lastTime)
            }
        }

        /// An ended task when building an outline: rules and stats as without one, then its outline entry, and
        /// its full lifecycle when the retention asks for it.
        private mutating func collect(_ slot: Int32) {
            let task = tracker.task(inSlot: slot).pointee
            // safe: every `collector!` below: `collect` is called only when `collecting`, i.e. it is non-nil
            let retained = collector!.retains(task, slot: slot)
            if prefiltering && task.detail < 0 {
                let asking = TraceAnalyzer.countAndPrefilter(tracker.task(inSlot: slot), prefilter: prefilter,
                                                             stats: &report.stats)
                guard asking != 0 || retained else {
                    return collector!.add(task, slot: slot, strings: reader.strings, into: &report)
                }
                let lifecycle = tracker.takeLifecycle(slot, strings: reader.strings)
                if asking != 0 {
                    analyzer.check(lifecycle, rules: rules, into: &report, traceEnd: tracker.lastTime, cutShort: false,
                                   asking: asking, ruleBits: ruleBits, aboutKeptTask: retained)
                }
                collector!.add(lifecycle, slot: slot, hasSpawn: task.hasSpawn, retained: retained, into: &report)
            } else {
                let lifecycle = tracker.takeLifecycle(slot, strings: reader.strings)
                analyzer.examine(lifecycle, rules: rules, into: &report, keepTasks: false, traceEnd: tracker.lastTime,
                                 cutShort: false, aboutKeptTask: retained)
                collector!.add(lifecycle, slot: slot, hasSpawn: task.hasSpawn, retained: retained, into: &report)
            }
        }
    }

    /// Sorts `findings` by time, task and rule, keeping the order of equal ones. Sorts positions, then permutes in
    /// place: sorting the large values themselves moved each many times.
    static func sortByTime(_ findings: inout [Finding]) {
        var order = Array(findings.indices)
        order.sort { a, b in
            if findings[a].time != findings[b].time { return findings[a].time < findings[b].time }
            if findings[a].task != findings[b].task { return findings[a].task < findings[b].task }
            if findings[a].rule != findings[b].rule { return findings[a].rule < findings[b].rule }
            return a < b
        }
        permute(&findings, to: &order)
    }

    /// Rearranges `values` so that position `i` holds what was at `order[i]`, one swap per value moved; `order`
    /// is left as `0, 1, 2, …`.
    static func permute<T>(_ values: inout [T], to order: inout [Int]) {
        for start in order.indices where order[start] != start {
            var position = start
            while true {
                let source = order[position]
                order[position] = position
                if source == start { break }
                values.swapAt(position, source)
                position = source
            }
        }
    }

    /// Help in the trace's language: Python syntax for a trace from the Python recorder.
    static func speakPython(_ findings: inout [Finding], rules: [any Rule]) {
        var helps: [String: String] = [:]
        for rule in rules { if let help = rule.pythonHelp { helps[rule.id] = help } }
        for i in findings.indices { if let help = helps[findings[i].rule] { findings[i].help = help } }
    }

    /// Counts an ended task that has no full lifecycle (read in its slot); returns the bits of the rules that may
    /// report it (`BuiltInPrefilter`), 0 when none may.
    @inline(__always)
    fileprivate static func countAndPrefilter(_ task: UnsafePointer<CompactTask>, prefilter: BuiltInPrefilter,
                                              stats: inout TraceStats) -> UInt16 {
        stats.add(task)
        return task.pointee.isQuiet ? 0 : prefilter.mayReport(on: task)
    }

    fileprivate func examine(_ task: TaskLifecycle, rules: [any Rule], into report: inout AnalysisReport, keepTasks: Bool,
                         traceEnd: UInt64, cutShort: Bool, damagedChunks: Int = 0, aboutKeptTask: Bool = false) {
        report.stats.add(task)
        check(task, rules: rules, into: &report, traceEnd: traceEnd, cutShort: cutShort, damagedChunks: damagedChunks,
              aboutKeptTask: aboutKeptTask)
        if keepTasks {
            if report.tasks.count < maxKeptTasks { report.tasks.append(task) } else { report.elidedTasks += 1 }
        }
    }

    /// Runs the rules on `task`: all of them, or with `ruleBits` only those whose bit is in `asking` (the others
    /// have said they cannot report it). `aboutKeptTask`: the task's lifecycle is kept (`FindingSelection`).
    fileprivate func check(_ task: TaskLifecycle, rules: [any Rule], into report: inout AnalysisReport,
                       traceEnd: UInt64, cutShort: Bool, damagedChunks: Int = 0,
                       asking: UInt16 = .max, ruleBits: [UInt16] = [], aboutKeptTask: Bool = false) {
        let context = RuleContext(configuration: configuration, traceEnd: traceEnd, traceCutShort: cutShort,
                                  damagedChunks: damagedChunks)
        for i in rules.indices where ruleBits.isEmpty || ruleBits[i] & asking != 0 {
            var found = rules[i].check(task, in: context)
            if found.isEmpty { continue }
            // Moved out one by one, in order (reversed, then popped): iterating copied each finding and its strings.
            found.reverse()
            while let finding = found.popLast() {
                if task.suppresses(finding.rule)
                    || (!configuration.suppressions.isEmpty && configuration.suppresses(finding)) {
                    report.suppressedFindings += 1
                    continue
                }
                report.findingCounts[finding.rule, default: 0] += 1
                report.levelCounts[finding.level, default: 0] += 1
                if report.findings.count + report.findingLevels.count >= maxFindings {
                    report.elidedFindings += 1
                } else if keepsFindingText {
                    report.findings.append(finding)
                } else {
                    report.findingLevels.append(FindingLevel(task: finding.task, level: finding.level))
                    report.findingSelection?.add(finding, aboutKeptTask: aboutKeptTask)
                }
            }
        }
    }
}

/// Everything one pass over a trace found.
public struct AnalysisReport: Sendable {
    /// Sorted by time, then task.
    public var findings: [Finding] = []
    /// Instead of `findings` when the analyzer keeps no finding text (`TraceAnalyzer.keepsFindingText`).
    public var findingLevels: [FindingLevel] = []
    /// When only some findings kept their text (`TraceAnalyzer.textOfFirstFindings`): the position of each of
    /// `findings` among all the findings in order (`findingNumber(at:)`).
    public var findingNumbers: [Int] = []
    /// Chooses those while the analysis runs.
    var findingSelection: FindingSelection?
    /// Findings per rule id, including elided ones.
    public var findingCounts: [String: Int] = [:]
    public var elidedFindings = 0
    /// Findings dropped by the configuration's suppressions (`check --allow`) or by the task's own `ignore` mark
    /// (`TaskLifecycle.suppresses`, from the Python recorder's comments and configuration); not counted elsewhere.
    public var suppressedFindings = 0
    /// Findings per level, including elided ones.
    public var levelCounts: [Level: Int] = [:]
    /// Every task, in order of first appearance, when the analysis kept them (`TaskKeeping.all`), or those asked
    /// for (`.only`).
    public var tasks: [TaskLifecycle] = []
    /// Every task in outline, with some full lifecycles (`TaskKeeping.outline`).
    public var outline: TaskOutline?
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
    /// Chunks skipped as damaged, wholly or from a malformed record on (`TraceReader.damagedChunks`).
    public var damagedChunks = 0
    public var tasksWithoutSpawn = 0
    /// Tasks (spawns, or records about unseen tasks) not analyzed because `TraceAnalyzer.maxLiveTasks` were alive.
    public var untrackedTasks = 0
    public var duplicateSpawns = 0
    /// Records about tasks that had already ended, ignored (`TaskTracker.recordsAfterEnd`).
    public var recordsAfterEnd = 0

    public init() {}

    /// The most serious level among the findings, if any.
    public var highestLevel: Level? { levelCounts.filter { $0.value > 0 }.keys.max() }
}

/// A finding reduced to what marks a timeline's lane.
public struct FindingLevel: Sendable, Equatable {
    public var task: TaskID
    public var level: Level
}
