import Foundation
import Samples
import Testing
import TraceAnalysis
import TraceFormat
import TraceRendering

/// Rendered output of the committed sample traces, compared with files beside this test.
/// Set CANCELTRACE_UPDATE_GOLDENS=1 to rewrite them after an intended change, and read the diff before committing.
/// The traces in Samples/Traces come from `swift run canceltrace demo --output Samples/Traces`.
@Suite struct GoldenTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Goldens")

    static func report(_ scenario: Scenario) throws -> AnalysisReport {
        let path = root.appendingPathComponent("Samples/Traces/\(scenario.rawValue).ctrace").path
        return try TraceAnalyzer().analyze(TraceReader(path: path), keepTasks: true)
    }

    static func check(_ text: String, against name: String) throws {
        let url = goldens.appendingPathComponent(name)
        if ProcessInfo.processInfo.environment["CANCELTRACE_UPDATE_GOLDENS"] == "1" {
            try Data(text.utf8).write(to: url)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(text == expected, "\(name) differs from its golden; rerun with CANCELTRACE_UPDATE_GOLDENS=1 if the change is intended")
    }

    @Test(arguments: Scenario.allCases)
    func timelineMatchesItsGolden(scenario: Scenario) throws {
        let text = try TimelineRenderer(width: 100).render(Self.report(scenario), title: scenario.rawValue) + "\n"
        try Self.check(text, against: "\(scenario.rawValue).timeline.txt")
    }

    @Test(arguments: Scenario.allCases)
    func findingsMatchTheirGolden(scenario: Scenario) throws {
        let report = try Self.report(scenario)
        let text = DiagnosticsRenderer(style: Style(enabled: false)).render(report, file: "\(scenario.rawValue).ctrace") + "\n"
        try Self.check(text, against: "\(scenario.rawValue).check.txt")
    }

    @Test(arguments: Scenario.allCases)
    func committedTracesFlagExactlyTheExpectedRules(scenario: Scenario) throws {
        let report = try Self.report(scenario)
        #expect(Set(report.findings.map(\.rule)) == Set(scenario.expectedRules))
        #expect(report.notices.isEmpty)
    }

    /// Fresh recordings run at the machine's speed, so the timing rules (slow-*) are off here: a loaded CI machine
    /// must not turn a correct scenario into a slow one. The committed traces above check every rule.
    @Test(arguments: Scenario.allCases)
    func freshRecordingsFlagExactlyTheExpectedRules(scenario: Scenario) async throws {
        let bytes = try await scenario.recordInMemory()
        var configuration = RuleConfiguration()
        configuration.levels["slow-cancellation"] = .some(nil)
        configuration.levels["slow-cleanup"] = .some(nil)
        let report = try TraceAnalyzer(configuration: configuration).analyze(TraceReader(bytes: bytes))
        #expect(Set(report.findings.map(\.rule)) == Set(scenario.expectedRules))
    }
}
