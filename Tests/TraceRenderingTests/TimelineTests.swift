import Testing
import TraceAnalysis
import TraceFormat
@testable import TraceRendering

@Suite struct TimelineTests {
    @Test func printsSwallow() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.swallow())
        print(try TimelineRenderer(width: 100).render(report, title: "swallow.ctrace"))
        print(DiagnosticsRenderer(style: Style(enabled: false)).render(report, file: "swallow.ctrace"))
        print(StatsRenderer(style: Style(enabled: false)).render(report, file: "swallow.ctrace"))
        let churn = try SyntheticTraces.report(SyntheticTraces.churn(count: 1000))
        print(try TimelineRenderer(width: 100).render(churn, title: "churn.ctrace"))
    }
}
