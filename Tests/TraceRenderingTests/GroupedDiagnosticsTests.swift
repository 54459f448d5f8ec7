import Testing
import TraceAnalysis
import TraceFormat
import TraceRendering

@Suite struct GroupedDiagnosticsTests {
    /// `count` pollers made at one place, all cancelled and all returning normally: one mistake, `count` findings.
    private func pollers(_ count: Int) throws -> AnalysisReport {
        var builder = TraceBuilder(sink: InMemoryTrace())
        let ms: UInt64 = 1_000_000
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        let site = builder.string("App/Poller.swift:42 (Poller.start())")
        for i in 0..<UInt64(count) {
            try builder.append(.spawn(time: ms, task: i + 2, parent: 1, name: builder.string("poller \(i)"), how: .unstructured))
            try builder.append(.site(time: ms, task: i + 2, location: site))
        }
        for i in 0..<UInt64(count) { try builder.append(.cancel(time: 10 * ms, task: i + 2, by: 1, reason: .explicit)) }
        for i in 0..<UInt64(count) { try builder.append(.end(time: 20 * ms + i * ms, task: i + 2, outcome: .returned)) }
        try builder.append(.end(time: 100 * ms, task: 1, outcome: .returned))
        try builder.close(time: 100 * ms)
        return try TraceAnalyzer().analyze(TraceReader(bytes: builder.sink.bytes))
    }

    @Test func oneFindingPerRuleAndPlaceWithTheCount() throws {
        let report = try pollers(40)
        let text = DiagnosticsRenderer(style: Style(enabled: false)).render(report, file: "app.ctrace")
        #expect(text.components(separatedBy: "warning[completed-after-cancel]").count == 2)
        #expect(text.contains("= note: created at App/Poller.swift:42 (Poller.start())"))
        #expect(text.contains("= note: 39 more tasks created at the same place had this finding between 0.020 s and 0.059 s (`--no-group` lists each)"))
        #expect(text.hasSuffix("40 warnings in app.ctrace"))
    }

    @Test func ungroupedListsEachFinding() throws {
        let report = try pollers(3)
        let text = DiagnosticsRenderer(style: Style(enabled: false), grouped: false).render(report, file: "app.ctrace")
        #expect(text.components(separatedBy: "warning[completed-after-cancel]").count == 4)
        #expect(!text.contains("more task"))
    }
}
