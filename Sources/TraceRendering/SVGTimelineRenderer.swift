import TraceAnalysis
import TraceFormat

/// The timeline as a self-contained SVG picture: one lane per task nested under its parent, a time axis, a marker
/// per event kind, arrows from each canceller to its target, and findings highlighted with their message as the
/// tooltip.
///
/// Deterministic for a given report and width (the pictures in `Docs/Pictures` are checked against it). Every
/// name from the trace is escaped. Time-placed elements carry their times (`data-t0`, `data-t1`, nanoseconds since
/// the first task started) so the HTML page can zoom and pan without re-rendering.
public struct SVGTimelineRenderer: Sendable {
    public var width: Int
    /// Most lanes drawn; above it same-named sibling groups collapse, then lanes are cut (as in the text timeline).
    public var maxLanes: Int
    /// List the findings' messages below the picture. The HTML page lists them itself.
    public var listsFindings: Bool

    public init(width: Int = 1000, maxLanes: Int = 200, listsFindings: Bool = true) {
        self.width = max(width, 500)
        self.maxLanes = max(maxLanes, 2)
        self.listsFindings = listsFindings
    }

    /// Findings listed below the picture (`listsFindings`).
    public static let listedFindings = 20

    static let laneHeight = 28.0
    static let top = 52.0
    static let outcomeWidth = 150.0

    /// Where the time axis lies, for the HTML page's script.
    struct Geometry {
        var plotLeft: Double
        var plotWidth: Double
        var span: UInt64

        func x(_ offset: UInt64) -> Double { plotLeft + Double(offset) / Double(span) * plotWidth }
    }

    /// Renders the timeline of `report` (which must have been analyzed with `keepTasks` or `TaskKeeping.outline`).
    /// - Parameter focus: a task id (`7` or `#7`) or exact name; shows that task, its ancestors and its descendants.
    public func render(_ report: AnalysisReport, title: String, focus: String? = nil) throws(TimelineRenderer.FocusError) -> String {
        render(report, layout: try TimelineLayout(report, focus: focus, maxLanes: maxLanes), title: title)
    }

    /// Renders `layout` (made from `report` with this renderer's `maxLanes`).
    public func render(_ report: AnalysisReport, layout: TimelineLayout, title: String) -> String {
        lines(report, layout: layout, title: title).joined(separator: "\n")
    }

    /// Writes the picture `render` returns to `sink` in pieces, so the whole picture is never one string.
    public func write(_ report: AnalysisReport, layout: TimelineLayout, title: String,
                      to sink: (String) throws -> Void) rethrows {
        for (index, line) in lines(report, layout: layout, title: title).enumerated() {
            if index > 0 { try sink("\n") }
            try sink(line)
        }
    }

    /// The picture's lines; joined with newlines they are the picture (the last is empty: the final newline).
    private func lines(_ report: AnalysisReport, layout: TimelineLayout, title: String) -> [String] {
        let tasks = layout.tasks
        let visible = layout.visible
        let lanes = layout.lanes
        let (start, end) = Scale.bounds(start: visible.lazy.map { tasks.begins[$0.index] }.min() ?? 0,
                                        traceEnd: report.traceEnd)
        let labels = lanes.map { label(of: $0, tasks) }
        let longest = zip(lanes, labels).map { Double(min($0.depth, TaskForest.maxIndentDepth)) * 12 + Double($1.plain.count) * 7.3 }.max() ?? 0
        let labelWidth = min(max(longest + 24, 140), Double(width) / 3)
        let geometry = Geometry(plotLeft: labelWidth, plotWidth: Double(width) - labelWidth - Self.outcomeWidth - 10,
                                span: end - start)
        func x(_ time: UInt64) -> Double { geometry.x(min(max(time, start), end) - start) }
        func t(_ time: UInt64) -> String { "\(min(max(time, start), end) - start)" }

        // The first lane holding a task with the id (ids repeat only in damaged or hostile traces).
        var laneOfIndex = [Int32](repeating: -1, count: tasks.count)
        for (index, lane) in lanes.enumerated() {
            for member in lane.members { laneOfIndex[member] = Int32(index) }
        }
        func laneOfTask(_ id: TaskID) -> Int? {
            var first = Int32.max
            for position in layout.lookup.positions(of: id) {
                let lane = laneOfIndex[layout.lookup.index(at: position)]
                if lane >= 0 && lane < first { first = lane }
            }
            return first == .max ? nil : Int(first)
        }
        let levels = layout.laneLevels(report)
        func centre(_ lane: Int) -> Double { Self.top + (Double(lane) + 0.5) * Self.laneHeight }

        let lanesBottom = Self.top + Double(lanes.count) * Self.laneHeight
        let hidden = visible.count - lanes.reduce(0) { $0 + $1.members.count }
        let axisTop = lanesBottom + (hidden > 0 ? 22 : 6)
        let legendTop = axisTop + 44
        // The report keeps the text of these at least (`TraceAnalyzer.textOfFirstFindings`).
        let shownFindings = listsFindings
            ? report.findings.indices.prefix(while: { report.findingNumber(at: $0) < Self.listedFindings }).map { report.findings[$0] } : []
        let findingsTop = legendTop + 26
        let height = findingsTop + (shownFindings.isEmpty ? 0 : Double(shownFindings.count) * 18 + 12)
            + (listsFindings && report.keptFindingCount > shownFindings.count ? 18 : 0)

        var out: [String] = []
        out.append("""
            <svg xmlns="http://www.w3.org/2000/svg" class="canceltrace-timeline" width="\(width)" height="\(MarkupText.number(height))" \
            viewBox="0 0 \(width) \(MarkupText.number(height))" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" \
            font-size="12" data-plot-left="\(MarkupText.number(geometry.plotLeft))" data-plot-width="\(MarkupText.number(geometry.plotWidth))" \
            data-span="\(geometry.span)" data-plot-top="\(MarkupText.number(Self.top))" data-plot-bottom="\(MarkupText.number(lanesBottom))">
            """)
        out.append(Self.styleSheet)
        out.append("""
            <defs><marker id="ct-arrowhead" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" orient="auto-start-reverse">\
            <path d="M0,0 L8,4 L0,8 z" class="arrowhead"/></marker>\
            <clipPath id="ct-plot-clip"><rect x="\(MarkupText.number(geometry.plotLeft - 8))" y="\(MarkupText.number(Self.top))" \
            width="\(MarkupText.number(geometry.plotWidth + 16))" height="\(MarkupText.number(lanesBottom - Self.top))"/></clipPath></defs>
            """)
        out.append("<rect class=\"page\" width=\"100%\" height=\"100%\"/>")
        let taskCount = visible.count
        let findingSummary = report.keptFindingCount == 0 ? "no findings" : Plural.count(report.keptFindingCount + report.elidedFindings, "finding")
        out.append("<text class=\"title\" x=\"10\" y=\"20\">\(MarkupText.escape(title))</text>")
        out.append("<text class=\"subtitle\" x=\"10\" y=\"38\">\(Plural.count(taskCount, "task")), \(MarkupText.escape(TraceTime.duration(end - start))), \(findingSummary)\(report.cutShort ? " (trace cut short)" : "")</text>")

        // Lane backgrounds, labels and outcomes.
        out.append("<g class=\"lanes\">")
        for (index, lane) in lanes.enumerated() {
            let y = Self.top + Double(index) * Self.laneHeight
            let representative = lane.members[0]
            let tint = levels[index].map { " finding-\($0.rawValue)" } ?? (index % 2 == 1 ? " odd" : "")
            let indent = Double(min(lane.depth, TaskForest.maxIndentDepth)) * 12
            let outcome = MarkupText.escape(lane.outcomeText(tasks), maxCharacters: 40)
            out.append("""
                <g class="lane\(lane.isGroup ? " group" : "")" data-task="\(tasks.ids[representative])" data-lane="\(index)">\
                <rect class="lane-bg\(tint)" x="0" y="\(MarkupText.number(y))" width="\(width)" height="\(MarkupText.number(Self.laneHeight))"/>\
                <text class="label" x="\(MarkupText.number(10 + indent))" y="\(MarkupText.number(y + 18))">\(labels[index].markup)\
                <title>\(MarkupText.escape(tasks.label(of: representative)))\(lane.isGroup ? " and \(lane.groupSize - 1) more with this name" : "")</title></text>\
                <text class="outcome \(outcomeClass(lane, tasks))" x="\(MarkupText.number(Double(width) - Self.outcomeWidth))" \
                y="\(MarkupText.number(y + 18))">\(outcome)</text></g>
                """)
        }
        out.append("</g>")
        if hidden > 0 {
            out.append("<text class=\"hidden-count\" x=\"10\" y=\"\(MarkupText.number(lanesBottom + 15))\">… \(Plural.count(hidden, "more task")) not shown</text>")
        }

        // Everything placed in time, clipped to the plot.
        out.append("<g class=\"plot\" clip-path=\"url(#ct-plot-clip)\">")
        // Only for the tasks drawn alone (their badges): a copy of every finding would cost as much as the findings.
        let drawnAlone = Set(lanes.lazy.filter { !$0.isGroup }.map { tasks.ids[$0.members[0]] })
        var findingsByTask: [TaskID: [(Int, Finding)]] = [:]
        for (index, finding) in report.findings.enumerated() where drawnAlone.contains(finding.task) {
            findingsByTask[finding.task, default: []].append((report.findingNumber(at: index), finding))
        }
        var cancelMarkerX: [TaskID: Double] = [:]
        for (index, lane) in lanes.enumerated() {
            let c = centre(index)
            if lane.isGroup {
                // From the outline only: a group can hold most of a million-task trace.
                let members = lane.members
                let from = members.lazy.map { tasks.begins[$0] }.min() ?? start
                let to = members.lazy.map { tasks.end(of: $0) ?? end }.max() ?? end
                out.append(span(from, to, y: c - 5, height: 10, cls: "bar group", x: x, t: t))
                var columns = Set<Int>()
                for member in members {
                    guard let time = tasks.standingCancelTime(of: member) else { continue }
                    let column = Int(geometry.x(min(max(time, start), end) - start))
                    guard columns.insert(column).inserted, let cancel = tasks.standingCancel(of: member) else { continue }
                    out.append(marker(cancel.time, y: c, cls: "cancel", shape: Self.cancelShape,
                                      tip: "\(tasks.label(of: member)) \(cancel.cause)", x: x, t: t))
                }
                continue
            }
            let task = tasks.lifecycle(of: lane.members[0])
            let drawn = taskElements(task, findings: findingsByTask[task.id] ?? [], centre: c, traceEnd: end,
                                     right: geometry.plotLeft + geometry.plotWidth + 4, x: x, t: t)
            out.append(contentsOf: drawn.elements)
            if let cancelX = drawn.cancelX { cancelMarkerX[task.id] = cancelX }
        }
        // Cancel arrows, from the canceller's lane to the target's, at the time of the request.
        var arrows = 0
        for entry in visible where arrows < 2_000 {
            let by = tasks.standingCanceller(of: entry.index)
            guard by != 0, let from = laneOfTask(by), let to = laneOfTask(tasks.ids[entry.index]), from != to,
                  let cancel = tasks.standingCancel(of: entry.index) else { continue }
            let label = tasks.label(of: entry.index), id = tasks.ids[entry.index]
            arrows += 1
            let arrowX = MarkupText.number(cancelMarkerX[id] ?? x(cancel.time))
            let y1 = centre(from) + (to > from ? 6 : -6), y2 = centre(to) + (to > from ? -7 : 7)
            out.append("""
                <line class="t arrow" data-t0="\(t(cancel.time))" x1="\(arrowX)" y1="\(MarkupText.number(y1))" \
                x2="\(arrowX)" y2="\(MarkupText.number(y2))" marker-end="url(#ct-arrowhead)">\
                <title>\(MarkupText.escape(label + " " + cancel.cause, maxCharacters: 400))</title></line>
                """)
        }
        out.append("</g>")

        out.append(contentsOf: axis(geometry, top: axisTop))
        out.append(Self.legend(y: legendTop))
        if !shownFindings.isEmpty {
            out.append("<g class=\"findings\">")
            for (index, finding) in shownFindings.enumerated() {
                let y = findingsTop + Double(index) * 18 + 6
                out.append("""
                    <text class="finding-text \(finding.level.rawValue)" x="10" y="\(MarkupText.number(y))">\
                    <tspan class="rule">\(finding.level.rawValue)[\(MarkupText.escape(finding.rule))]:</tspan> \
                    \(MarkupText.escape(finding.message, maxCharacters: 500))</text>
                    """)
            }
            if report.keptFindingCount > shownFindings.count {
                let more = report.keptFindingCount - shownFindings.count + report.elidedFindings
                out.append("<text class=\"finding-text\" x=\"10\" y=\"\(MarkupText.number(findingsTop + Double(shownFindings.count) * 18 + 6))\">… \(Plural.count(more, "more finding")) (run canceltrace check)</text>")
            }
            out.append("</g>")
        }
        out.append("</svg>")
        out.append("")  // the final newline
        return out
    }

    // MARK: Pieces

    struct Label {
        var plain: String
        var markup: String
    }

    private func label(of lane: Lane, _ tasks: TaskOutline) -> Label {
        let taskName = tasks.name(of: lane.members[0])
        let name = TerminalText.escape(taskName, maxCharacters: 40)
        let suffix: String
        if lane.isGroup {
            let nested = lane.members.count - lane.groupSize
            suffix = " ×\(lane.groupSize)" + (nested > 0 ? " +\(nested)" : "")
        } else {
            suffix = " #\(tasks.ids[lane.members[0]])"
        }
        return Label(plain: name + suffix, markup: MarkupText.escape(taskName, maxCharacters: 40) + "<tspan class=\"id\">\(suffix)</tspan>")
    }

    private func outcomeClass(_ lane: Lane, _ tasks: TaskOutline) -> String {
        guard !lane.isGroup else { return "group" }
        return tasks.outcome(of: lane.members[0])?.label ?? "running"
    }

    private func span(_ from: UInt64, _ to: UInt64, y: Double, height: Double, cls: String,
                      x: (UInt64) -> Double, t: (UInt64) -> String, tip: String? = nil) -> String {
        let x0 = x(from), x1 = x(to)
        let tipText = tip.map { "<title>\($0)</title>" } ?? ""
        return """
            <rect class="t \(cls)" data-t0="\(t(from))" data-t1="\(t(to))" x="\(MarkupText.number(x0))" y="\(MarkupText.number(y))" \
            width="\(MarkupText.number(max(x1 - x0, 1)))" height="\(MarkupText.number(height))">\(tipText)</rect>
            """
    }

    private func marker(_ time: UInt64, at xPosition: Double, y: Double, cls: String, shape: String, tip: String,
                        t: (UInt64) -> String, attributes: String = "") -> String {
        """
        <g class="t \(cls)" data-t0="\(t(time))" data-y="\(MarkupText.number(y))"\(attributes) \
        transform="translate(\(MarkupText.number(xPosition)),\(MarkupText.number(y)))">\
        \(shape)<title>\(MarkupText.escape(tip, maxCharacters: 500))</title></g>
        """
    }

    private func marker(_ time: UInt64, y: Double, cls: String, shape: String, tip: String,
                        x: (UInt64) -> Double, t: (UInt64) -> String) -> String {
        marker(time, at: x(time), y: y, cls: "marker " + cls, shape: shape, tip: tip, t: t)
    }

    static let spawnShape = "<path d=\"M0,-7 V7\"/>"
    static let cancelShape = "<path d=\"M-4,-4 L4,4 M-4,4 L4,-4\"/>"
    static let caughtShape = "<circle r=\"3.5\"/>"
    static let cleanupShape = "<path d=\"M0,-6 V6\"/>"
    static let rethrowShape = "<path d=\"M-4.5,4 L0,-5 L4.5,4 z\"/>"
    static let markShape = "<path d=\"M0,-5 L4,0 L0,5 L-4,0 z\"/>"
    static let endShape = "<path d=\"M0,-8 V8\"/>"
    static let runningShape = "<path d=\"M-4,-4 L2,0 L-4,4\"/>"

    struct Pending {
        var time: UInt64
        var order: Int
        var cls: String
        var shape: String
        var tip: String
    }

    static let markerSpacing = 9.0

    /// The bar, spans and markers of one task's lane, its findings' badges, and where its cancel marker went.
    private func taskElements(_ task: TaskLifecycle, findings: [(Int, Finding)], centre c: Double, traceEnd: UInt64, right: Double,
                              x: (UInt64) -> Double, t: (UInt64) -> String) -> (elements: [String], cancelX: Double?) {
        var out: [String] = []
        var cancelX: Double?
        let begin = task.spawnTime ?? task.firstSeen
        let finish = task.end?.time ?? traceEnd
        let state = task.end?.outcome.label ?? "running"
        out.append(span(begin, finish, y: c - 5, height: 10, cls: "bar \(state)", x: x, t: t,
                        tip: MarkupText.escape("\(task.label): \(TraceTime.seconds(begin)) – \(task.end.map { TraceTime.seconds($0.time) } ?? "still running at the end"), \(state)", maxCharacters: 300)))
        if let cancel = task.effectiveCancel, finish > cancel.time {
            out.append(span(cancel.time, finish, y: c + 2, height: 3, cls: "after-cancel", x: x, t: t,
                            tip: MarkupText.escape("ran \(TraceTime.duration(finish - cancel.time)) after its cancel request")))
        }
        for cleanup in task.cleanups {
            let tip = "cleanup \(TraceTime.seconds(cleanup.begin)) – \(cleanup.end.map(TraceTime.seconds) ?? "…")"
                + (cleanup.result == .threw ? ", threw \(cleanup.errorType)" : "")
            out.append(span(cleanup.begin, cleanup.end ?? traceEnd, y: c - 5, height: 10,
                            cls: "cleanup\(cleanup.result == .threw ? " threw" : "")", x: x, t: t, tip: MarkupText.escape(tip)))
        }
        var pending: [Pending] = []
        if let spawn = task.spawnTime {
            pending.append(Pending(time: spawn, order: 0, cls: "spawn", shape: SVGTimelineRenderer.spawnShape,
                              tip: "\(task.label) spawned at \(TraceTime.seconds(spawn)) (\(task.how.label))"))
        }
        for cancel in task.cancels {
            pending.append(Pending(time: cancel.time, order: 1, cls: cancel.withdrawn ? "cancel withdrawn" : "cancel", shape: SVGTimelineRenderer.cancelShape,
                              tip: cancel.cause + (cancel.withdrawn ? " (withdrawn)" : "")))
        }
        for caught in task.catches {
            pending.append(Pending(time: caught.time, order: 2, cls: "caught", shape: SVGTimelineRenderer.caughtShape,
                              tip: "caught \(caught.errorType) at \(TraceTime.seconds(caught.time))"))
        }
        for time in task.rethrowTimes {
            pending.append(Pending(time: time, order: 5, cls: "rethrow", shape: SVGTimelineRenderer.rethrowShape,
                              tip: "rethrew at \(TraceTime.seconds(time))"))
        }
        for mark in task.marks {
            pending.append(Pending(time: mark.time, order: 6, cls: "mark", shape: SVGTimelineRenderer.markShape,
                              tip: "mark \"\(mark.label)\" at \(TraceTime.seconds(mark.time))"))
        }
        if let end = task.end {
            let error = end.errorType.isEmpty ? "" : " (\(end.errorType))"
            pending.append(Pending(time: end.time, order: 7, cls: "end \(end.outcome.label)", shape: SVGTimelineRenderer.endShape,
                              tip: "\(end.outcome.label)\(error) at \(TraceTime.seconds(end.time))"))
        } else {
            pending.append(Pending(time: traceEnd, order: 7, cls: "end running", shape: SVGTimelineRenderer.runningShape,
                              tip: "still running when the trace ended"))
        }
        // Markers never hide each other: one that lands too close to the previous moves right, and a run that
        // reaches the lane's end moves left, so every marker stays visible and in order (the HTML page's zoom
        // shows the exact times).
        pending.sort { ($0.time, $0.order) < ($1.time, $1.order) }
        var positions: [Double] = []
        for item in pending { positions.append(max(x(item.time), (positions.last ?? -1_000) + Self.markerSpacing)) }
        var limit = right
        for i in positions.indices.reversed() {
            positions[i] = min(positions[i], limit)
            limit = positions[i] - Self.markerSpacing
        }
        for (item, position) in zip(pending, positions) {
            out.append(marker(item.time, at: position, y: c, cls: "marker " + item.cls, shape: item.shape, tip: item.tip, t: t))
            if item.order == 1 && cancelX == nil && !item.cls.contains("withdrawn") { cancelX = position }
        }
        // Findings: a badge above the marker where each shows, its message as the tooltip.
        for (number, finding) in findings {
            let position = Array(zip(pending, positions)).last { $0.0.time <= finding.time }?.1 ?? x(finding.time)
            out.append(marker(finding.time, at: position, y: c - 9, cls: "badge \(finding.level.rawValue)",
                              shape: "<circle r=\"5.5\"/><text y=\"3.5\" text-anchor=\"middle\">!</text>",
                              tip: "\(finding.level.rawValue)[\(finding.rule)]: \(finding.message)", t: t,
                              attributes: " data-finding=\"\(number)\""))
        }
        return (out, cancelX)
    }

    /// The axis line with ticks at round times; the HTML page redraws it when zooming.
    private func axis(_ geometry: Geometry, top: Double) -> [String] {
        let step = Self.tickStep(span: geometry.span, plotWidth: geometry.plotWidth)
        var out = ["<g class=\"axis\" data-y=\"\(MarkupText.number(top))\">"]
        out.append("<line x1=\"\(MarkupText.number(geometry.plotLeft))\" y1=\"\(MarkupText.number(top))\" x2=\"\(MarkupText.number(geometry.plotLeft + geometry.plotWidth))\" y2=\"\(MarkupText.number(top))\"/>")
        for tick in Scale.ticks(span: geometry.span, step: step) {
            let x = MarkupText.number(geometry.x(tick))
            out.append("<line x1=\"\(x)\" y1=\"\(MarkupText.number(top))\" x2=\"\(x)\" y2=\"\(MarkupText.number(top + 5))\"/><text x=\"\(x)\" y=\"\(MarkupText.number(top + 18))\" text-anchor=\"middle\">\(MarkupText.escape(Scale.label(tick, step: step)))</text>")
        }
        out.append("</g>")
        return out
    }

    /// A round step (1, 2 or 5 × 10ⁿ ns) giving about one tick per 90 pixels.
    static func tickStep(span: UInt64, plotWidth: Double) -> UInt64 {
        Scale.tickStep(raw: Double(span) / max(2, (plotWidth / 90).rounded(.down)))
    }

    private static func legend(y: Double) -> String {
        let items: [(String, String, String)] = [
            ("spawn", spawnShape, "spawn"), ("cancel", cancelShape, "cancel requested"), ("caught", caughtShape, "caught"),
            ("cleanup-key", "<rect x=\"-5\" y=\"-5\" width=\"10\" height=\"10\"/>", "cleanup"), ("rethrow", rethrowShape, "rethrow"),
            ("mark", markShape, "mark"), ("end returned", endShape, "end"),
            ("after-cancel-key", "<rect x=\"-6\" y=\"-1.5\" width=\"12\" height=\"3\"/>", "running after cancel"),
            ("arrow-key", "<path d=\"M-6,0 H6\" marker-end=\"url(#ct-arrowhead)\"/>", "canceller → target"),
            ("badge error", "<circle r=\"5.5\"/><text y=\"3.5\" text-anchor=\"middle\">!</text>", "finding"),
        ]
        var out = "<g class=\"legend\">"
        var x = 16.0
        for (cls, shape, text) in items {
            out += "<g class=\"marker \(cls)\" transform=\"translate(\(MarkupText.number(x)),\(MarkupText.number(y)))\">\(shape)</g>"
            out += "<text x=\"\(MarkupText.number(x + 10))\" y=\"\(MarkupText.number(y + 4))\">\(text)</text>"
            x += 24 + Double(text.count) * 7.3
        }
        return out + "</g>"
    }

    static let styleSheet = """
        <style>
        .canceltrace-timeline .page { fill: #ffffff; }
        .canceltrace-timeline text { fill: #1f2328; }
        .canceltrace-timeline .title { font-weight: bold; font-size: 14px; }
        .canceltrace-timeline .subtitle, .canceltrace-timeline .hidden-count, .canceltrace-timeline .id { fill: #656d76; }
        .canceltrace-timeline .lane-bg { fill: #ffffff; }
        .canceltrace-timeline .lane-bg.odd { fill: #f6f8fa; }
        .canceltrace-timeline .lane-bg.finding-error { fill: #ffebe9; }
        .canceltrace-timeline .lane-bg.finding-warning { fill: #fff8c5; }
        .canceltrace-timeline .lane-bg.finding-note { fill: #ddf4ff; }
        .canceltrace-timeline .lane.focus .lane-bg { stroke: #0969da; stroke-width: 2; }
        .canceltrace-timeline .outcome.returned { fill: #1a7f37; }
        .canceltrace-timeline .outcome.cancelled { fill: #9a6700; }
        .canceltrace-timeline .outcome.failed { fill: #cf222e; }
        .canceltrace-timeline .outcome.running { fill: #656d76; }
        .canceltrace-timeline .bar { stroke: none; }
        .canceltrace-timeline .bar.returned { fill: #aceebb; }
        .canceltrace-timeline .bar.cancelled { fill: #ffd8a8; }
        .canceltrace-timeline .bar.failed { fill: #ffcecb; }
        .canceltrace-timeline .bar.running { fill: #d0d7de; }
        .canceltrace-timeline .bar.group { fill: #afb8c1; }
        .canceltrace-timeline .after-cancel, .canceltrace-timeline .after-cancel-key rect { fill: #cf222e; }
        .canceltrace-timeline .cleanup, .canceltrace-timeline .cleanup-key rect { fill: #1b9aaa; opacity: 0.85; }
        .canceltrace-timeline .cleanup.threw { fill: #cf222e; }
        .canceltrace-timeline .marker path, .canceltrace-timeline .marker circle { stroke-width: 2; fill: none; }
        .canceltrace-timeline .spawn path { stroke: #57606a; }
        .canceltrace-timeline .cancel path { stroke: #cf222e; stroke-width: 2.5; }
        .canceltrace-timeline .cancel.withdrawn path { stroke: #8c959f; }
        .canceltrace-timeline .caught circle { fill: #d4a72c; stroke: #7d4e00; stroke-width: 1; }
        .canceltrace-timeline .rethrow path { fill: #1a7f37; stroke: none; }
        .canceltrace-timeline .mark path { fill: #8250df; stroke: none; }
        .canceltrace-timeline .end.returned path { stroke: #1a7f37; stroke-width: 3; }
        .canceltrace-timeline .end.cancelled path { stroke: #bc4c00; stroke-width: 3; }
        .canceltrace-timeline .end.failed path { stroke: #cf222e; stroke-width: 3; }
        .canceltrace-timeline .end.running path { stroke: #656d76; }
        .canceltrace-timeline .arrow, .canceltrace-timeline .arrow-key path { stroke: #cf222e; stroke-width: 1.5; stroke-dasharray: 3 2; }
        .canceltrace-timeline .arrowhead { fill: #cf222e; }
        .canceltrace-timeline .badge circle { stroke: #ffffff; stroke-width: 1; }
        .canceltrace-timeline .badge.error circle { fill: #cf222e; }
        .canceltrace-timeline .badge.warning circle { fill: #bf8700; }
        .canceltrace-timeline .badge.note circle { fill: #0969da; }
        .canceltrace-timeline .badge text { fill: #ffffff; font-weight: bold; font-size: 10px; }
        .canceltrace-timeline .axis line { stroke: #57606a; }
        .canceltrace-timeline .axis text, .canceltrace-timeline .legend text { fill: #57606a; font-size: 11px; }
        .canceltrace-timeline .finding-text.error .rule { fill: #cf222e; font-weight: bold; }
        .canceltrace-timeline .finding-text.warning .rule { fill: #9a6700; font-weight: bold; }
        .canceltrace-timeline .finding-text.note .rule { fill: #0969da; font-weight: bold; }
        </style>
        """
}
