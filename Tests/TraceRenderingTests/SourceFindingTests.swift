import Testing
import TraceAnalysis
import TraceFormat
import TraceRendering

/// The `= lint:` lines `check --source` prints under a finding: bounded, escaped, before the help.
@Suite struct SourceFindingTests {
    private func finding(_ n: Int, message: String = "`try?` drops it") -> SourceFinding {
        SourceFinding(file: "Sources/App/F\(n).swift", line: n, column: 3, rule: "try-optional-cancellable", level: "error", message: message)
    }

    @Test func atMostFiveThenHowManyMore() {
        let lines = SourceFinding.lines((1...7).map { finding($0) })
        #expect(lines.count == 6)
        #expect(lines[0] == "lint: Sources/App/F1.swift:1:3: error[try-optional-cancellable]: `try?` drops it")
        #expect(lines[4].hasPrefix("lint: Sources/App/F5.swift:5:3: "))
        #expect(lines[5] == "lint: … 2 more (canceltrace lint DIR shows all)")
        #expect(SourceFinding.lines((1...5).map { finding($0) }).count == 5)
        #expect(SourceFinding.lines([]).isEmpty)
    }

    @Test func fileAndMessageAreEscaped() {
        let line = SourceFinding.lines([finding(1, message: "bad\u{1B}[31m\nline")])[0]
        #expect(!line.contains("\u{1B}"))
        #expect(!line.contains("\n"))
    }

    @Test func extraLinesComeAfterTheNotesAndBeforeTheHelp() throws {
        var builder = TraceBuilder(sink: InMemoryTrace())
        let ms: UInt64 = 1_000_000
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        try builder.append(.spawn(time: ms, task: 2, parent: 1, name: builder.string("poller"), how: .unstructured))
        try builder.append(.site(time: ms, task: 2, location: builder.string("App/Poller.swift:42 (start())")))
        try builder.append(.cancel(time: 10 * ms, task: 2, by: 1, reason: .explicit))
        try builder.append(.end(time: 20 * ms, task: 2, outcome: .returned))
        try builder.append(.end(time: 100 * ms, task: 1, outcome: .returned))
        try builder.close(time: 100 * ms)
        let report = try TraceAnalyzer().analyze(TraceReader(bytes: builder.sink.bytes))
        let renderer = DiagnosticsRenderer(style: Style(enabled: false)) { finding in
            finding.site == "App/Poller.swift:42 (start())" ? ["lint: here"] : []
        }
        let lines = renderer.render(report, file: "app.ctrace").components(separatedBy: "\n")
        let created = try #require(lines.firstIndex(of: "  = note: created at App/Poller.swift:42 (start())"))
        let lint = try #require(lines.firstIndex(of: "  = lint: here"))
        let help = try #require(lines.firstIndex { $0.hasPrefix("  = help: ") })
        #expect(created < lint && lint < help)
        #expect(!DiagnosticsRenderer(style: Style(enabled: false)).render(report, file: "app.ctrace").contains("= lint:"))
    }
}
