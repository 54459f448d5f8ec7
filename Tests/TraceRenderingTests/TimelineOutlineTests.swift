import Testing
import TraceAnalysis
import TraceFormat
@testable import TraceRendering

/// The timeline drawn from a `TaskOutline` (what `canceltrace timeline` reads: every task in a few bytes, full
/// lifecycles only for the tasks drawn alone) is the timeline drawn from every full lifecycle, byte for byte.
@Suite struct TimelineOutlineTests {
    /// A random tree: parents among live tasks, five names, cancels by other tasks with messages, catches,
    /// cleanups, marks, failures with error types, tasks that never end, an orphan end and a repeated id.
    static func randomTree(tasks: Int, seed: UInt64) throws -> [UInt8] {
        var builder = TraceBuilder(sink: InMemoryTrace())
        var state = seed
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let names = ["fetch", "parse", "store", "retry", "main-loop"].map { builder.string($0) }
        let message = builder.string("deadline \"soon\"")
        let error = builder.string("URLError")
        var time: UInt64 = 0
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        var live: [UInt64] = [1]
        var nextID: UInt64 = 2
        while nextID < UInt64(tasks) + 2 || live.count > 1 {
            time += UInt64(next(1_000))
            let roll = next(10)
            if roll < 4 && nextID < UInt64(tasks) + 2 {
                let parent = live[next(live.count)]
                try builder.append(.spawn(time: time, task: nextID, parent: parent, name: names[next(names.count)], how: .child))
                live.append(nextID)
                nextID += 1
            } else if live.count > 1 {
                let at = 1 + next(live.count - 1)
                let task = live[at]
                switch next(6) {
                case 0:
                    try builder.append(.cancel(time: time, task: task, by: live[next(live.count)], reason: .timeout, message: message))
                case 1:
                    try builder.append(.caught(time: time, task: task, error: error))
                    try builder.append(.cleanupBegin(time: time + 1, task: task))
                    try builder.append(.cleanupEnd(time: time + 2, task: task, result: .ok))
                case 2:
                    try builder.append(.mark(time: time, task: task, label: names[0]))
                case 3 where next(50) == 0:
                    live.remove(at: at)  // never ends: still running at the end
                default:
                    let outcome = [Outcome.returned, .cancelled, .failed][next(3)]
                    try builder.append(.end(time: time, task: task, outcome: outcome, error: outcome == .failed ? error : 0))
                    live.remove(at: at)
                }
            }
        }
        try builder.append(.end(time: time + 1, task: 999_999, outcome: .returned))  // never spawned
        try builder.append(.spawn(time: time + 2, task: 2, parent: 1, name: names[0], how: .child))  // id 2 again
        try builder.close(time: time + 10)
        return builder.sink.bytes
    }

    /// The layout as `canceltrace timeline` builds it: outline first, a second read for lifecycles not kept.
    static func outlineLayout(_ bytes: [UInt8], focus: String?, maxLanes: Int, retention: OutlineRetention) throws
        -> (AnalysisReport, TimelineLayout) {
        let report = try TraceAnalyzer().analyze(TraceReader(bytes: bytes), keeping: .outline(retention))
        var layout = try TimelineLayout(report, focus: focus, maxLanes: maxLanes)
        let missing = layout.missingIDs
        if !missing.isEmpty {
            layout.supply(try TraceAnalyzer().analyze(TraceReader(bytes: bytes), keeping: .only(missing)).tasks)
        }
        #expect(layout.missingDetails.isEmpty)
        return (report, layout)
    }

    static func traces() throws -> [(String, [UInt8])] {
        [("swallow", try SyntheticTraces.swallow()), ("churn", try SyntheticTraces.churn(count: 3_000)),
         ("tree", try randomTree(tasks: 3_000, seed: 7)), ("small tree", try randomTree(tasks: 60, seed: 3))]
    }

    @Test(arguments: [3, 20, 200])
    func theOutlineDrawsTheSameBytesAsEveryLifecycle(maxLanes: Int) throws {
        for (name, bytes) in try Self.traces() {
            let full = try SyntheticTraces.report(bytes)
            let focuses: [String?] = [nil, "#1", "fetch", "2", "40"]
            for focus in focuses {
                guard (try? TimelineLayout(full, focus: focus, maxLanes: maxLanes)) != nil else { continue }
                // Few lifecycles kept at first, so most drawn alone come from the second read.
                for retention in [OutlineRetention(perSiblingName: maxLanes), OutlineRetention(perSiblingName: 1, maxKept: 3)] {
                    let (report, layout) = try Self.outlineLayout(bytes, focus: focus, maxLanes: maxLanes, retention: retention)
                    #expect(report.tasks.isEmpty)
                    let text = TimelineRenderer(width: 120, style: Style(enabled: true), maxLanes: maxLanes)
                    #expect(text.render(report, layout: layout, title: name) == (try text.render(full, title: name, focus: focus)),
                            "\(name), focus \(focus ?? "none"), \(maxLanes) lanes")
                    let svg = SVGTimelineRenderer(maxLanes: maxLanes)
                    #expect(svg.render(report, layout: layout, title: name) == (try svg.render(full, title: name, focus: focus)),
                            "\(name), focus \(focus ?? "none"), \(maxLanes) lanes")
                    let html = HTMLTimelineRenderer(maxLanes: maxLanes)
                    #expect(html.render(report, layout: layout, title: name) == (try html.render(full, title: name, focus: focus)),
                            "\(name), focus \(focus ?? "none"), \(maxLanes) lanes")
                }
            }
        }
    }

    /// What `canceltrace timeline` keeps for text: findings as task and level, standing cancels as times only, and
    /// lifecycles for 4 × the lanes. Same bytes as from every lifecycle.
    @Test(arguments: [3, 20, 200])
    func theTextTimelineNeedsNoFindingTextOrCancelDetails(maxLanes: Int) throws {
        for (name, bytes) in try Self.traces() {
            let full = try SyntheticTraces.report(bytes)
            for focus in [nil, "#1", "fetch"] as [String?] {
                guard (try? TimelineLayout(full, focus: focus, maxLanes: maxLanes)) != nil else { continue }
                var analyzer = TraceAnalyzer()
                analyzer.keepsFindingText = false
                let retention = OutlineRetention(perSiblingName: maxLanes, maxKept: 4 * maxLanes, cancelDetails: false)
                var report = try analyzer.analyze(TraceReader(bytes: bytes), keeping: .outline(retention))
                #expect(report.findings.isEmpty)
                #expect(report.findingLevels.count == full.findings.count)
                var layout = try TimelineLayout(taking: &report, focus: focus, maxLanes: maxLanes)
                #expect(report.outline == nil)
                let missing = layout.missingIDs
                if !missing.isEmpty {
                    layout.supply(try TraceAnalyzer().analyze(TraceReader(bytes: bytes), keeping: .only(missing)).tasks)
                }
                let text = TimelineRenderer(width: 120, style: Style(enabled: true), maxLanes: maxLanes)
                #expect(text.render(report, layout: layout, title: name) == (try text.render(full, title: name, focus: focus)),
                        "\(name), focus \(focus ?? "none"), \(maxLanes) lanes")
            }
        }
    }

    /// The layout as `canceltrace timeline --format svg/html` builds it: the text of the first `listed` findings and
    /// of the kept lifecycles' findings, the others as levels; a second read for the lifecycles and the findings'
    /// text of the tasks drawn alone.
    static func pictureLayout(_ bytes: [UInt8], focus: String?, maxLanes: Int, listed: Int, retention: OutlineRetention)
        throws -> (AnalysisReport, TimelineLayout) {
        var analyzer = TraceAnalyzer()
        analyzer.keepsFindingText = false
        analyzer.textOfFirstFindings = listed
        var report = try analyzer.analyze(TraceReader(bytes: bytes), keeping: .outline(retention))
        var layout = try TimelineLayout(taking: &report, focus: focus, maxLanes: maxLanes)
        let again = layout.idsToReadAgain(report, findingText: true)
        if !again.isEmpty {
            analyzer.textOfFirstFindings = 0
            layout.supply(try analyzer.analyze(TraceReader(bytes: bytes), keeping: .only(again)), to: &report)
        }
        #expect(layout.missingDetails.isEmpty)
        #expect(layout.idsToReadAgain(report, findingText: true).isEmpty, "every badge has its text")
        return (report, layout)
    }

    /// The pictures keep the text of the findings they list and badge only, and draw the same bytes as from every
    /// finding and lifecycle; most lanes drawn alone come from the second read with the small retention.
    @Test(arguments: [3, 20, 200])
    func picturesDrawTheSameBytesFromTheListedAndBadgedFindingsText(maxLanes: Int) throws {
        for (name, bytes) in try Self.traces() {
            let full = try SyntheticTraces.report(bytes)
            for focus in [nil, "#1", "fetch", "40"] as [String?] {
                guard (try? TimelineLayout(full, focus: focus, maxLanes: maxLanes)) != nil else { continue }
                for retention in [OutlineRetention(perSiblingName: maxLanes, maxKept: 4 * maxLanes), OutlineRetention(perSiblingName: 1, maxKept: 3)] {
                    let what = "\(name), focus \(focus ?? "none"), \(maxLanes) lanes, \(retention.maxKept) kept"
                    let (svgReport, svgLayout) = try Self.pictureLayout(bytes, focus: focus, maxLanes: maxLanes,
                                                                        listed: SVGTimelineRenderer.listedFindings, retention: retention)
                    let svg = SVGTimelineRenderer(maxLanes: maxLanes)
                    #expect(svg.render(svgReport, layout: svgLayout, title: name) == (try svg.render(full, title: name, focus: focus)), "\(what)")
                    let html = HTMLTimelineRenderer(maxLanes: maxLanes, maxListedFindings: 5)
                    let (htmlReport, htmlLayout) = try Self.pictureLayout(bytes, focus: focus, maxLanes: maxLanes, listed: 5,
                                                                          retention: retention)
                    #expect(html.render(htmlReport, layout: htmlLayout, title: name) == (try html.render(full, title: name, focus: focus)), "\(what)")
                    if full.findings.count > 200 {
                        #expect(htmlReport.findings.count < full.findings.count / 2, "\(what): the text of most findings is not kept")
                    }
                }
            }
        }
    }

    /// Each finding kept with its text sits at its number in the full sorted list, the first `listed` are all
    /// kept, and every finding is counted.
    @Test(arguments: [0, 1, 7, 100])
    func keptFindingTextIsNumberedAsInTheFullReport(listed: Int) throws {
        let bytes = try Self.randomTree(tasks: 3_000, seed: 5)
        let full = try SyntheticTraces.report(bytes)
        var analyzer = TraceAnalyzer()
        analyzer.keepsFindingText = false
        analyzer.textOfFirstFindings = listed
        let report = try analyzer.analyze(TraceReader(bytes: bytes), keeping: .outline(OutlineRetention(perSiblingName: 2, maxKept: 30)))
        #expect(full.findings.count > listed + 50)
        #expect(report.keptFindingCount == full.findings.count)
        #expect(report.findingNumbers.count == report.findings.count)
        for index in report.findings.indices {
            #expect(report.findings[index] == full.findings[report.findingNumber(at: index)])
        }
        #expect(Array(report.findingNumbers.prefix(listed)) == Array(0..<listed))
        // By id, so not for the repeated id (its other task's lifecycle is not kept: a picture reads it again).
        var seen = Set<TaskID>(), repeated = Set<TaskID>()
        for id in report.outline?.ids ?? [] where !seen.insert(id).inserted { repeated.insert(id) }
        #expect(repeated == [2])
        let kept = Set(report.outline?.details.values.map(\.id) ?? []).subtracting(repeated)
        #expect(kept.count > 5)
        let missing = full.findings.filter { kept.contains($0.task) && !report.findings.contains($0) }
        #expect(missing.isEmpty, "findings of kept tasks without their text: \(missing.count)")
    }

    /// Same-named tasks without a parent (roots) group like siblings: one lane per name, their children inside.
    @Test func sameNamedRootsCollapseIntoOneLaneEach() throws {
        var builder = TraceBuilder(sink: InMemoryTrace())
        let names = [builder.string("fetch"), builder.string("parse")], step = builder.string("step")
        var id: UInt64 = 1, time: UInt64 = 0
        for _ in 0..<50 {
            for name in names {
                time += 10
                try builder.append(.spawn(time: time, task: id, parent: 0, name: name, how: .detached))
                try builder.append(.spawn(time: time + 1, task: id + 1, parent: id, name: step, how: .child))
                try builder.append(.end(time: time + 2, task: id + 1, outcome: .returned))
                try builder.append(.end(time: time + 3, task: id, outcome: .returned))
                id += 2
            }
        }
        try builder.close(time: time + 10)
        let retention = OutlineRetention(perSiblingName: 10, maxKept: 40)
        let report = try TraceAnalyzer().analyze(TraceReader(bytes: builder.sink.bytes), keeping: .outline(retention))
        let lines = try TimelineRenderer(width: 100, maxLanes: 10).render(report, title: "roots").split(separator: "\n")
        #expect(lines.count == 6, "title, two lanes, the axis and its labels, the legend")
        #expect(lines[1].hasPrefix(" fetch ×50 +50 "))
        #expect(lines[2].hasPrefix(" parse ×50 +50 "))
    }

    @Test func theOutlineKeepsTheSameFindingsAndStats() throws {
        let bytes = try Self.randomTree(tasks: 3_000, seed: 11)
        let full = try SyntheticTraces.report(bytes)
        let outline = try TraceAnalyzer().analyze(TraceReader(bytes: bytes), keeping: .outline(OutlineRetention(perSiblingName: 40)))
        #expect(outline.findings.map(\.message) == full.findings.map(\.message))
        #expect(outline.stats.tasks == full.stats.tasks)
        #expect(outline.outline?.count == full.tasks.count)
        #expect(outline.outline?.ids == full.tasks.map(\.id))
    }

    /// A huge run of tasks made at one place under one parent: every task is in the outline, but full lifecycles
    /// stay bounded by the retention, and the lanes by `maxLanes`.
    @Test func manySameSiteTasksKeepBoundedLifecyclesAndLanes() throws {
        let count = 300_000
        let bytes = try SyntheticTraces.churn(count: count)
        let retention = OutlineRetention(perSiblingName: 40, maxKept: 1_000)
        let report = try TraceAnalyzer().analyze(TraceReader(bytes: bytes), keeping: .outline(retention))
        let outline = try #require(report.outline)
        #expect(outline.count == count + 1)
        #expect(outline.details.count <= 41)
        #expect(report.tasks.isEmpty)
        let layout = try TimelineLayout(report, focus: nil, maxLanes: 40)
        #expect(layout.missingDetails.isEmpty, "main and the group need nothing read again")
        let text = TimelineRenderer(width: 100, maxLanes: 40).render(report, layout: layout, title: "churn")
        #expect(text.contains("worker ×\(count)"))
        #expect(text.split(separator: "\n").count < 10)
    }
}
