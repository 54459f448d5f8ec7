import TraceAnalysis
import TraceFormat

/// The text timeline: one lane per task, nested under its parent, on a time axis scaled to the width.
///
/// Deterministic for a given report, width and style. Large traces collapse sibling tasks that share a name into
/// one aggregated lane, and cut the rest with a count, so output stays readable at a million tasks.
public struct TimelineRenderer: Sendable {
    public var width: Int
    public var style: Style
    /// Most lanes drawn; above it sibling groups collapse, then lanes are cut.
    public var maxLanes: Int

    public init(width: Int = 100, style: Style = Style(enabled: false), maxLanes: Int = 40) {
        self.width = max(width, 50)
        self.style = style
        self.maxLanes = max(maxLanes, 2)
    }

    public enum FocusError: Error, CustomStringConvertible {
        case noSuchTask(String)
        public var description: String {
            if case let .noSuchTask(query) = self { return "no task with id or name \"\(TerminalText.escape(query))\"" }
            return ""
        }
    }

    static let legend = "├ spawn  ✕ cancel requested  c caught  [ ] cleanup  r rethrow  * mark  ┤ end  ╌ running after cancel"

    /// Renders the timeline of `report` (which must have been analyzed with `keepTasks` or `TaskKeeping.outline`).
    /// - Parameter focus: a task id (`7` or `#7`) or exact name; shows that task, its ancestors and its descendants.
    public func render(_ report: AnalysisReport, title: String, focus: String? = nil) throws(FocusError) -> String {
        render(report, layout: try TimelineLayout(report, focus: focus, maxLanes: maxLanes), title: title)
    }

    /// Renders `layout` (made from `report` with this renderer's `maxLanes`).
    public func render(_ report: AnalysisReport, layout: TimelineLayout, title: String) -> String {
        let tasks = layout.tasks
        let visible = layout.visible
        let lanes = layout.lanes
        let levels = layout.laneLevels(report)

        let (start, end) = Scale.bounds(start: visible.lazy.map { tasks.begins[$0.index] }.min() ?? 0,
                                        traceEnd: report.traceEnd)
        let labels = lanes.map { $0.label(tasks) }
        let outcomes = lanes.map { $0.outcomeText(tasks) }
        let labelWidth = min(max(labels.map(TerminalText.displayWidth).max() ?? 10, 10) + 2, width / 3)
        let outcomeWidth = min(max(outcomes.map(\.count).max() ?? 8, 8), 34)
        let laneWidth = width - labelWidth - outcomeWidth - 2
        let scale = Scale(start: start, end: end, columns: laneWidth)

        let groups = groupSpans(lanes, tasks, scale)
        var out: [String] = []
        let taskCount = visible.count
        out.append(style.bold(TerminalText.cut(TerminalText.escape(title, maxCharacters: width - 30), toWidth: width - 30))
                   + "  \(taskCount) task\(taskCount == 1 ? "" : "s"), \(TraceTime.duration(end - start))")
        for (index, lane) in lanes.enumerated() {
            let label = labels[index], outcome = outcomes[index]
            let flag = switch levels[index] {
            case .error?: style.boldRed("✗")
            case .warning?: style.boldYellow("!")
            case .note?: style.bold("·")
            case nil: " "
            }
            let cells = lane.isGroup
                ? groupCells(groups[index], scale)
                : taskCells(tasks.lifecycle(of: lane.members[0]), scale, traceEnd: report.traceEnd)
            out.append(flag + TerminalText.pad(label, to: labelWidth - 1) + " " + cells + " "
                       + colourOutcome(TerminalText.pad(outcome, to: outcomeWidth).trimmingTrailingSpaces(), lane, tasks))
        }
        let hidden = visible.count - lanes.reduce(0) { $0 + $1.members.count }
        if hidden > 0 {
            out.append(style.dim("  … \(hidden) more task\(hidden == 1 ? "" : "s") not shown (use --task ID|NAME to focus)"))
        }
        out.append(contentsOf: scale.axis(indent: labelWidth + 1))
        out.append(style.dim(Self.legend))
        return out.joined(separator: "\n")
    }

    // MARK: Lanes

    private struct Marker {
        var time: UInt64
        var order: Int
        var symbol: Character
        var colour: (Style, String) -> String
    }

    private func taskCells(_ task: TaskLifecycle, _ scale: Scale, traceEnd: UInt64) -> String {
        var cells = [String](repeating: " ", count: scale.columns)
        let begin = scale.column(task.spawnTime ?? task.firstSeen)
        let finish = scale.column(task.end?.time ?? traceEnd)
        let cancelColumn = task.effectiveCancel.map { scale.column($0.time) }
        for column in begin...max(begin, finish) {
            let afterCancel = cancelColumn.map { column > $0 } ?? false
            cells[column] = afterCancel ? style.red("╌") : "─"
        }
        for cleanup in task.cleanups {
            let from = scale.column(cleanup.begin), to = scale.column(cleanup.end ?? traceEnd)
            for column in from...max(from, to) { cells[column] = style.cyan("=") }
        }
        var markers: [Marker] = []
        if let spawn = task.spawnTime { markers.append(Marker(time: spawn, order: 0, symbol: "├") { _, s in s }) }
        for cancel in task.cancels where !cancel.withdrawn {
            markers.append(Marker(time: cancel.time, order: 1, symbol: "✕") { $0.boldRed($1) })
        }
        for caught in task.catches { markers.append(Marker(time: caught.time, order: 2, symbol: "c") { $0.yellow($1) }) }
        for cleanup in task.cleanups {
            markers.append(Marker(time: cleanup.begin, order: 3, symbol: "[") { $0.cyan($1) })
            if let end = cleanup.end {
                markers.append(Marker(time: end, order: 4, symbol: "]") { cleanup.result == .threw ? $0.red($1) : $0.cyan($1) })
            }
        }
        for time in task.rethrowTimes { markers.append(Marker(time: time, order: 5, symbol: "r") { $0.green($1) }) }
        for mark in task.marks { markers.append(Marker(time: mark.time, order: 6, symbol: "*") { $0.magenta($1) }) }
        if let end = task.end {
            markers.append(Marker(time: end.time, order: 7, symbol: "┤") { s, text in
                switch end.outcome {
                case .returned: text
                case .cancelled: s.yellow(text)
                case .failed: s.red(text)
                }
            })
        } else {
            markers.append(Marker(time: traceEnd, order: 7, symbol: "→") { $0.dim($1) })
        }
        markers.sort { ($0.time, $0.order) < ($1.time, $1.order) }
        // Markers never hide each other: one that lands on a taken column moves right, and a run that reaches the
        // lane's end moves left, so every marker stays visible and in order.
        var columns = [Int]()
        for marker in markers { columns.append(max(scale.column(marker.time), (columns.last ?? -1) + 1)) }
        var limit = scale.columns - 1
        for i in columns.indices.reversed() {
            columns[i] = max(0, min(columns[i], limit))
            limit = columns[i] - 1
        }
        for (marker, column) in zip(markers, columns) { cells[column] = marker.colour(style, String(marker.symbol)) }
        return cells.joined()
    }

    /// What a group lane draws: its members' span and the columns where one of them had its cancel request.
    private struct GroupSpan {
        var first = UInt64.max
        var last = UInt64.min
        var cancelled: [Bool]

        init(columns: Int) { cancelled = [Bool](repeating: false, count: columns) }
    }

    /// The spans of the group lanes (by lane), from the outline only, in one walk over it in task order: a group
    /// can hold most of a million-task trace, and walking each group's members in turn read the outline's
    /// columns once per group, a cache line per member.
    private func groupSpans(_ lanes: [Lane], _ tasks: TaskOutline, _ scale: Scale) -> [GroupSpan] {
        // Lanes drawn alone get an empty span, never read.
        var spans = lanes.map { GroupSpan(columns: $0.isGroup ? scale.columns : 0) }
        var laneOf = [Int32](repeating: -1, count: tasks.count)
        for (index, lane) in lanes.enumerated() where lane.isGroup {
            for member in lane.members { laneOf[member] = Int32(index) }
        }
        for member in laneOf.indices where laneOf[member] >= 0 {
            let lane = Int(laneOf[member])
            spans[lane].first = min(spans[lane].first, tasks.begins[member])
            spans[lane].last = max(spans[lane].last, tasks.end(of: member) ?? scale.end)
            if let time = tasks.standingCancelTime(of: member) { spans[lane].cancelled[scale.column(time)] = true }
        }
        return spans
    }

    private func groupCells(_ group: GroupSpan, _ scale: Scale) -> String {
        var cells = [String](repeating: " ", count: scale.columns)
        let begin = scale.column(group.first == .max ? scale.start : group.first)
        let finish = scale.column(group.first == .max ? scale.end : group.last)
        for column in begin...max(begin, finish) { cells[column] = "═" }
        // One styled marker per column: a group can hold hundreds of thousands of cancels.
        let marker = style.boldRed("✕")
        for column in group.cancelled.indices where group.cancelled[column] { cells[column] = marker }
        return cells.joined()
    }

    private func colourOutcome(_ text: String, _ lane: Lane, _ tasks: TaskOutline) -> String {
        guard !lane.isGroup else { return text }
        switch tasks.outcome(of: lane.members[0]) {
        case .returned?: return style.green(text)
        case .cancelled?: return style.yellow(text)
        case .failed?: return style.red(text)
        case nil: return style.dim(text)
        }
    }
}

/// Maps trace times to columns and draws the axis.
struct Scale {
    let start: UInt64
    let end: UInt64
    let columns: Int

    func column(_ time: UInt64) -> Int {
        let clamped = min(max(time, start), end)
        let fraction = Double(clamped - start) / Double(end - start)
        return min(columns - 1, Int((fraction * Double(columns - 1)).rounded(.down)))
    }

    /// The axis line with ticks at round times, and their labels below.
    func axis(indent: Int) -> [String] {
        let span = end - start
        let step = Self.tickStep(raw: Double(span) / Double(max(2, columns / 14)))
        var line = [Character](repeating: "─", count: columns)
        var labels = [Character](repeating: " ", count: columns + 12)
        line[0] = "└"
        var nextFree = 0
        for tick in Self.ticks(span: span, step: step) {
            let column = column(start + tick)
            if column > 0 { line[column] = "┴" }
            let text = Array(Self.label(tick, step: step))
            if column >= nextFree && column + text.count <= labels.count {
                for (i, c) in text.enumerated() { labels[column + i] = c }
                nextFree = column + text.count + 2
            }
        }
        let pad = String(repeating: " ", count: indent)
        return [pad + String(line), (pad + String(labels)).trimmingTrailingSpaces()]
    }

    /// The drawn time range: from `start` to the trace's end, at least 1 ns long, also when `start` is the
    /// clock's last value (the reader accepts any 64-bit time).
    static func bounds(start: UInt64, traceEnd: UInt64) -> (start: UInt64, end: UInt64) {
        let start = min(start, UInt64.max - 1)
        return (start, max(traceEnd, start + 1))
    }

    /// A round tick step, 1, 2 or 5 × 10ⁿ ns, at least `raw` (10¹⁹ ns when nothing smaller is).
    static func tickStep(raw: Double) -> UInt64 {
        var power: UInt64 = 1
        for _ in 0...18 {
            for factor: UInt64 in [1, 2, 5] where Double(factor * power) >= raw { return factor * power }
            power *= 10
        }
        return power
    }

    /// 0, `step`, 2 × `step`, … up to `span`, stopping before the sum would pass 2⁶⁴ − 1.
    static func ticks(span: UInt64, step: UInt64) -> some Sequence<UInt64> {
        sequence(first: UInt64(0)) { tick in
            let (next, overflow) = tick.addingReportingOverflow(max(step, 1))
            return overflow || next > span ? nil : next
        }
    }

    static func label(_ time: UInt64, step: UInt64) -> String {
        if time == 0 { return "0" }
        switch step {
        case ..<1_000: return "\(time) ns"
        case ..<1_000_000: return step % 1_000 == 0 ? "\(time / 1_000) µs" : "\(time) ns"
        case ..<1_000_000_000: return step % 1_000_000 == 0 ? "\(time / 1_000_000) ms" : "\(time / 1_000) µs"
        default: return step % 1_000_000_000 == 0 ? "\(time / 1_000_000_000) s" : "\(time / 1_000_000) ms"
        }
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
