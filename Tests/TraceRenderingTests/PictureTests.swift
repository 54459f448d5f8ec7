import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Samples
import Testing
import TraceAnalysis
import TraceFormat
@testable import TraceRendering

@Suite struct PictureTests {
    @Test(arguments: Scenario.allCases)
    func theSVGHasOneLanePerTaskAndIsWellFormedXML(scenario: Scenario) throws {
        let report = try ExportFixtures.report(scenario)
        let svg = try SVGTimelineRenderer().render(report, title: scenario.rawValue)
        #expect(occurrences(of: " data-lane=\"", in: svg) == report.tasks.count)
        #expect(try parsesAsXML(svg))
        for finding in report.findings { #expect(svg.contains(MarkupText.escape(finding.message, maxCharacters: 500))) }
        let cancelledByATask = report.tasks.filter { ($0.effectiveCancel?.by ?? 0) != 0 && $0.effectiveCancel?.by != $0.id }
        #expect(occurrences(of: "class=\"t arrow\"", in: svg) == cancelledByATask.count)
    }

    /// The page lists the first findings and counts the rest in one line; under the cap, every finding and no line.
    @Test func theHTMLListsAtMostMaxListedFindings() throws {
        let report = try SyntheticTraces.report(try TimelineOutlineTests.randomTree(tasks: 3_000, seed: 11))
        let count = report.findings.count
        try #require(count > 3)
        let capped = try HTMLTimelineRenderer(maxListedFindings: 3).render(report, title: "t")
        #expect(occurrences(of: "<li class=\"finding ", in: capped) == 3)
        #expect(capped.contains("… \(Plural.count(count - 3, "more finding")) not listed (run canceltrace check)"))
        let all = try HTMLTimelineRenderer(maxListedFindings: count).render(report, title: "t")
        #expect(occurrences(of: "<li class=\"finding ", in: all) == count)
        #expect(!all.contains("not listed"))
        // The picture is the same: every badge is drawn, listed or not (one not listed shows its own tooltip).
        #expect(occurrences(of: " data-finding=\"", in: capped) == occurrences(of: " data-finding=\"", in: all))
        #expect(occurrences(of: " data-finding=\"", in: all) > 3)
    }

    @Test func theSVGIsTheSameEveryTime() throws {
        let report = try ExportFixtures.report(.swallowCatchAll)
        #expect(try SVGTimelineRenderer().render(report, title: "t") == SVGTimelineRenderer().render(report, title: "t"))
    }

    @Test func namesFromTheTraceAreEscapedInSVGAndHTML() throws {
        let report = try ExportFixtures.hostileReport()
        let svg = try SVGTimelineRenderer().render(report, title: "<b>title</b>")
        let html = try HTMLTimelineRenderer().render(report, title: "<b>title</b>")
        for text in [svg, html] {
            #expect(!text.contains("<script>alert"))
            #expect(!text.contains("<img"))
            #expect(!text.contains("onload=\"alert"))
            #expect(!text.contains("</title><script>"))
            #expect(!text.contains("\u{1B}"))
            #expect(!text.contains("<b>title"))
            #expect(text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        }
        #expect(try parsesAsXML(svg))
        // The page's only script is its own, and it holds no trace data.
        #expect(occurrences(of: "<script>", in: html) == 1)
        #expect(!HTMLTimelineRenderer.script.contains("alert"))
    }

    @Test func theHTMLPageNeedsNoNetwork() throws {
        let html = try HTMLTimelineRenderer().render(ExportFixtures.report(.swallowCatchAll), title: "t")
        let withoutNamespace = html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "")
            .replacingOccurrences(of: "\"http://www.w3.org/2000/svg\"", with: "")
        #expect(!withoutNamespace.contains("http://"))
        #expect(!withoutNamespace.contains("https://"))
        #expect(!html.contains("src="))
        #expect(html.contains("default-src 'none'"))
        #expect(html.contains("swallowed-cancellation"))
        #expect(html.contains("id=\"finding-0\""))
    }

    @Test func focusKeepsTheTaskAndItsRelatives() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.swallow())
        let svg = try SVGTimelineRenderer().render(report, title: "t", focus: "long_task")
        #expect(occurrences(of: " data-lane=\"", in: svg) == 2)
        #expect(throws: TimelineRenderer.FocusError.self) { try SVGTimelineRenderer().render(report, title: "t", focus: "nobody") }
    }

    @Test func aHugeTraceCollapsesIntoFewLanes() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.churn(count: 20_000))
        let svg = try SVGTimelineRenderer(maxLanes: 50).render(report, title: "churn")
        #expect(occurrences(of: " data-lane=\"", in: svg) <= 50)
        #expect(svg.contains("worker"))
        #expect(svg.utf8.count < 2_000_000)
    }

    @Test func theProgressLineShowsTheFraction() {
        let line = ProgressBar.line(label: "app.ctrace", done: 512 * 1024, total: 1024 * 1024, width: 10)
        #expect(line == "reading app.ctrace [█████░░░░░] 50%  0.5 / 1.0 MiB")
        var written: [String] = []
        let bar = ProgressBar(total: 100, label: "a", delay: 0) { written.append($0) }
        bar.update(bytesRead: 50)
        bar.finish()
        #expect(written.count == 2)
        #expect(written.last == "\r\u{1B}[K")
        let quiet = ProgressBar(total: 100, label: "a", delay: 60) { written.append($0) }
        quiet.update(bytesRead: 50)
        quiet.finish()
        #expect(written.count == 2, "nothing is drawn before the delay, so small files never flicker")
    }
}

func occurrences(of needle: String, in text: String) -> Int {
    text.components(separatedBy: needle).count - 1
}

func parsesAsXML(_ text: String) throws -> Bool {
    let parser = XMLParser(data: Data(text.utf8))
    let ok = parser.parse()
    if !ok { Issue.record("XML error: \(String(describing: parser.parserError))") }
    return ok
}
