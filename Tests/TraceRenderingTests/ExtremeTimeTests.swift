import Foundation
import Testing
import TraceAnalysis
import TraceFormat
@testable import TraceRendering

/// Issue 11 item 5: the reader accepts any 64-bit time, so every renderer and exporter must too.
@Suite struct ExtremeTimeTests {
    /// main starts `child` at `start`, cancels it, and both end at `end` (times in ns, as the reader gives them).
    static func trace(start: UInt64, end: UInt64) throws -> [UInt8] {
        var builder = TraceBuilder(sink: InMemoryTrace())
        try builder.append(.spawn(time: start, task: 1, parent: 0, name: builder.string("main"), how: .root))
        try builder.append(.spawn(time: start, task: 2, parent: 1, name: builder.string("child"), how: .unstructured))
        try builder.append(.cancel(time: start, task: 2, by: 1, reason: .explicit))
        try builder.append(.caught(time: end, task: 2, error: builder.string("CancellationError")))
        try builder.append(.end(time: end, task: 2, outcome: .returned))
        try builder.append(.end(time: end, task: 1, outcome: .returned))
        try builder.close(time: end)
        return builder.sink.bytes
    }

    static let spans: [(UInt64, UInt64)] = [
        (0, .max), (.max, .max), (.max - 1, .max), (1 << 63, .max), (0, 0), (.max / 3, .max / 2),
    ]

    @Test(arguments: spans)
    func everyRendererTakesTimesNearTheEndOfTheClock(start: UInt64, end: UInt64) throws {
        let report = try SyntheticTraces.report(Self.trace(start: start, end: end))
        for width in [50, 100, 1000] {
            let text = try TimelineRenderer(width: width).render(report, title: "t")
            #expect(text.contains("child"))
        }
        #expect(try SVGTimelineRenderer().render(report, title: "t").contains("</svg>"))
        #expect(try HTMLTimelineRenderer().render(report, title: "t").contains("</html>"))
        #expect(!PerfettoExporter().json(report, file: "t").isEmpty)
        #expect(FindingsJSON.render(report, file: "t").contains("findings"))
        #expect(SARIFRenderer(toolVersion: "0").render(report, file: "t").contains("results"))
        #expect(!StatsRenderer(style: Style(enabled: false)).render(report, file: "t").isEmpty)
        #expect(!DiagnosticsRenderer(style: Style(enabled: false)).render(report, file: "t").isEmpty)
        _ = TraceNotes.lines(for: report, style: Style(enabled: false))
        var events = EventListRenderer(style: Style(enabled: false))
        let reader = try TraceReader(bytes: Self.trace(start: start, end: end))
        var lines = 0
        while let event = try reader.next() { if events.line(for: event, strings: reader.strings) != nil { lines += 1 } }
        #expect(lines > 0)
    }
}
