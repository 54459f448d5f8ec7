import Foundation
import Testing
import TraceAnalysis
import TraceFormat
@testable import TraceRendering

/// Issue 11 items 10 and 12: a small trace whose names are huge must not give a huge output.
@Suite struct OutputSizeTests {
    static let longName = String(repeating: "n", count: 65_000)

    /// `count` tasks sharing one 65,000-byte name, each cancelled by main and swallowing it: ~2 findings each,
    /// from a trace of a few kilobytes.
    static func hugeNames(count: Int) throws -> [UInt8] {
        var builder = TraceBuilder(sink: InMemoryTrace())
        let name = builder.string(longName), error = builder.string("CancellationError")
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        for i in 0..<UInt64(count) {
            let t = i * 1_000_000
            try builder.append(.spawn(time: t, task: i + 2, parent: 1, name: name, how: .unstructured))
            try builder.append(.cancel(time: t + 1, task: i + 2, by: 1, reason: .explicit))
            try builder.append(.caught(time: t + 2, task: i + 2, error: error))
            try builder.append(.end(time: t + 3, task: i + 2, outcome: .returned))
        }
        try builder.append(.end(time: UInt64(count) * 1_000_000, task: 1, outcome: .returned))
        try builder.close(time: UInt64(count) * 1_000_000)
        return builder.sink.bytes
    }

    @Test func findingsWithHugeNamesGiveABoundedJSONAndSARIF() throws {
        let bytes = try Self.hugeNames(count: 1_000)
        #expect(bytes.count < 100_000)
        let report = try SyntheticTraces.report(bytes)
        #expect(report.findings.count >= 1_000)
        // About 3 KB per finding, and the full name once.
        let bound = report.findings.count * 3_000 + 2 * Self.longName.utf8.count
        let json = FindingsJSON.render(report, file: "t")
        #expect(json.utf8.count < bound, "JSON is \(json.utf8.count) bytes")
        let sarif = SARIFRenderer(toolVersion: "0").render(report, file: "t")
        #expect(sarif.utf8.count < bound, "SARIF is \(sarif.utf8.count) bytes")
        // The full name is there once, and every finding still names its task (cut).
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let items = try #require(document["findings"] as? [[String: Any]])
        let names = items.compactMap { $0["taskName"] as? String }
        #expect(names.filter { $0 == Self.longName }.count == 1)
        #expect(names.allSatisfy { $0.hasPrefix("nnnnnnnnnn") })
        #expect(items.allSatisfy { ($0["message"] as? String).map { $0.utf8.count < 1_000 } ?? false })
    }

    @Test func thePerfettoExportIsBoundedPerEventNotByTheNames() throws {
        let report = try SyntheticTraces.report(Self.hugeNames(count: 300))
        let json = PerfettoExporter().json(report, file: "t")
        #expect(json.count < 300 * 12 * 2_000, "Perfetto JSON is \(json.count) bytes")
        _ = try PerfettoTests.checkStructure(json, tasks: 301)
    }

    /// Item 18: U+2028 and U+2029 are escaped in every JSON output, as Docs/Reliability.md says.
    @Test func lineSeparatorsAreEscapedInEveryJSONOutput() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.swallow(taskName: "a\u{2028}b\u{2029}c"))
        let outputs = [FindingsJSON.render(report, file: "t"), SARIFRenderer(toolVersion: "0").render(report, file: "t"),
                       String(decoding: PerfettoExporter().json(report, file: "t"), as: UTF8.self)]
        for output in outputs {
            #expect(!output.unicodeScalars.contains { $0.value == 0x2028 || $0.value == 0x2029 })
            #expect(output.contains("a\\u2028b\\u2029c"))
            #expect((try? JSONSerialization.jsonObject(with: Data(output.utf8))) != nil)
        }
    }
}

/// Issue 11 item 13: what the live-task cap left out is said in every text output.
@Suite struct UntrackedTaskNoteTests {
    @Test func theNotesSayHowManyTasksWereNotAnalyzed() throws {
        var report = try SyntheticTraces.report(SyntheticTraces.swallow())
        report.untrackedTasks = 12
        let lines = TraceNotes.lines(for: report, style: Style(enabled: false))
        #expect(lines.contains { $0.contains("12 spawns or records of tasks not analyzed") })
    }
}

/// Issue 11 item 17: wide characters take two columns, and lanes are measured in columns.
@Suite struct WideCharacterTests {
    static let names = ["数据库连接池的清理任务正在等待很长时间", "🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀🚀", "한국어작업이름한국어작업이름한국어작업이름",
                        "e\u{301}\u{301}\u{301}combining marks take no column", "mixed 名前 and 👩‍👩‍👧 family"]

    @Test func displayWidthCountsColumns() {
        #expect(TerminalText.displayWidth("abc") == 3)
        #expect(TerminalText.displayWidth("数据") == 4)
        #expect(TerminalText.displayWidth("🚀") == 2)
        #expect(TerminalText.displayWidth("e\u{301}") == 1)
        #expect(TerminalText.displayWidth(TerminalText.pad("数据库连接池", to: 7)) == 7)
    }

    @Test(arguments: names)
    func everyTimelineLineFitsTheWidthWithWideNames(name: String) throws {
        let report = try SyntheticTraces.report(SyntheticTraces.swallow(taskName: name))
        for width in [50, 100] {
            let text = try TimelineRenderer(width: width).render(report, title: name + ".ctrace")
            // The legend, last, is fixed text (as in TimelineTests).
            for line in text.split(separator: "\n").dropLast() {
                #expect(TerminalText.displayWidth(String(line)) <= width, "width \(width): \(line)")
            }
        }
    }
}
