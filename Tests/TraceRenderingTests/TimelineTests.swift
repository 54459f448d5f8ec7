import Testing
import TraceAnalysis
import TraceFormat
@testable import TraceRendering

@Suite struct TimelineTests {
    let plain = TimelineRenderer(width: 100)

    @Test func everyLaneFitsTheWidth() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.swallow(taskName: String(repeating: "n", count: 500)))
        for width in [50, 80, 100, 173] {
            let text = try TimelineRenderer(width: width).render(report, title: "t.ctrace")
            for line in text.split(separator: "\n").dropLast() { #expect(line.count <= width, "width \(width): \(line)") }
        }
    }

    @Test func crowdedMarkersStayVisibleAndInOrder() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.swallow())
        let text = try plain.render(report, title: "swallow")
        let lane = try #require(text.split(separator: "\n").first { $0.contains("long_task") })
        // cancel, caught, cleanup begin, cleanup end and end all happen within 3 ms of a 1 s trace.
        #expect(lane.contains("✕c[]┤"))
        #expect(lane.hasPrefix("✗"), "a lane with an error finding is flagged")
    }

    @Test func childrenAreNestedUnderTheirParent() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.swallow())
        let lines = try plain.render(report, title: "t").split(separator: "\n").map(String.init)
        let main = try #require(lines.firstIndex { $0.contains("main #1") })
        let child = try #require(lines.firstIndex { $0.contains("long_task #2") })
        #expect(child == main + 1)
        #expect(lines[child].dropFirst().hasPrefix("  long_task"), "children are indented")
    }

    @Test func aMillionSameNamedTasksCollapseIntoOneLane() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.churn(count: 100_000))
        let text = try plain.render(report, title: "churn")
        let lines = text.split(separator: "\n")
        #expect(lines.count < 10)
        #expect(text.contains("worker ×100000"))
        #expect(text.contains("50000 returned, 50000 cancelled"))
    }

    @Test func lanesBeyondTheLimitAreCutWithACount() throws {
        var builder = TraceBuilder(sink: InMemoryTrace())
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        for i in 0..<UInt64(200) {
            try builder.append(.spawn(time: i, task: i + 2, parent: 1, name: builder.string("unique-\(i)"), how: .child))
            try builder.append(.end(time: 1000 + i, task: i + 2, outcome: .returned))
        }
        try builder.close(time: 2000)
        let report = try SyntheticTraces.report(builder.sink.bytes)
        let text = try TimelineRenderer(width: 100, maxLanes: 20).render(report, title: "many")
        #expect(text.split(separator: "\n").count == 1 + 20 + 1 + 2 + 1)
        #expect(text.contains("… 181 more tasks not shown"))
    }

    @Test func parentCyclesAndDeepChainsDrawEveryTaskOnce() throws {
        var builder = TraceBuilder(sink: InMemoryTrace())
        let name = builder.string("t")
        // 1 → 2 → 1 is a cycle; 10 … 20_010 is a chain 20,000 deep.
        try builder.append(.spawn(time: 0, task: 1, parent: 2, name: name, how: .child))
        try builder.append(.spawn(time: 1, task: 2, parent: 1, name: name, how: .child))
        for i in 0..<UInt64(20_000) {
            try builder.append(.spawn(time: 2 + i, task: 10 + i, parent: i == 0 ? 0 : 9 + i, name: builder.string("level-\(i)"), how: .child))
        }
        try builder.close(time: 50_000)
        let report = try SyntheticTraces.report(builder.sink.bytes)
        let forest = TaskForest(report.tasks)
        #expect(forest.order.count == report.tasks.count)
        #expect(Set(forest.order.map(\.index)).count == report.tasks.count)
        let text = try TimelineRenderer(width: 100, maxLanes: 30).render(report, title: "deep")
        #expect(text.contains("… 19972 more tasks not shown"))
    }

    @Test func focusShowsTheTaskItsAncestorsAndDescendants() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.swallow())
        let text = try plain.render(report, title: "t", focus: "long_task")
        #expect(text.contains("long_task #2"))
        #expect(text.contains("main #1"))
        #expect(!text.contains("helper #3"))
        #expect(try plain.render(report, title: "t", focus: "#3").contains("helper #3"))
        #expect(throws: TimelineRenderer.FocusError.self) { try plain.render(report, title: "t", focus: "nobody") }
    }

    @Test func colourIsOnlyEmittedWhenAsked() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.swallow())
        #expect(!(try plain.render(report, title: "t")).contains("\u{1B}"))
        #expect(try TimelineRenderer(width: 100, style: Style(enabled: true)).render(report, title: "t").contains("\u{1B}[1;31m✕"))
    }
}

@Suite struct TerminalTextTests {
    @Test(arguments: [
        ("plain", "plain"),
        ("a\u{1B}[31mred", "a\\e[31mred"),
        ("bell\u{07}", "bell\\x07"),
        ("line\nbreak\r", "line\\nbreak\\r"),
        ("back\\slash", "back\\\\slash"),
        ("c1\u{9B}31m", "c1\\x9b31m"),
        ("bidi\u{202E}txt", "bidi\\u{202e}txt"),
        ("ünïcødé ✓", "ünïcødé ✓"),
    ])
    func controlCharactersAreEscaped(input: String, expected: String) {
        #expect(TerminalText.escape(input) == expected)
    }

    @Test func longTextIsCutWithAnEllipsis() {
        #expect(TerminalText.escape(String(repeating: "x", count: 100), maxCharacters: 10) == "xxxxxxxxxx…")
    }

    @Test func noColorAndTerminalsDecideAuto() {
        #expect(ColorMode.auto.resolved(isTerminal: true, environment: [:]))
        #expect(!ColorMode.auto.resolved(isTerminal: true, environment: ["NO_COLOR": "1"]))
        #expect(!ColorMode.auto.resolved(isTerminal: false, environment: [:]))
        #expect(ColorMode.always.resolved(isTerminal: false, environment: ["NO_COLOR": "1"]))
        #expect(!ColorMode.never.resolved(isTerminal: true, environment: [:]))
    }
}
