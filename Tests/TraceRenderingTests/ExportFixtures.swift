import Foundation
import Samples
import TraceAnalysis
import TraceFormat

/// The committed scenario traces in `Samples/Traces` (recorded with `canceltrace demo --output Samples/Traces`),
/// so pictures and exports of them are deterministic.
enum ExportFixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Samples/Traces")

    static func path(_ scenario: Scenario) -> String {
        folder.appendingPathComponent("\(scenario.rawValue).ctrace").path
    }

    static func report(_ scenario: Scenario) throws -> AnalysisReport {
        try TraceAnalyzer().analyze(TraceReader(path: path(scenario)), keepTasks: true)
    }

    static let hostileName = "<script>alert(1)</script>"

    /// The swallow trace with a task named like an injection, and a canceller whose name breaks attributes.
    static func hostileReport() throws -> AnalysisReport {
        var builder = TraceBuilder(sink: InMemoryTrace())
        let ms: UInt64 = 1_000_000
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main\" onload=\"alert(2)"), how: .root))
        try builder.append(.spawn(time: 1 * ms, task: 2, parent: 1, name: builder.string(hostileName), how: .unstructured))
        try builder.append(.spawn(time: 2 * ms, task: 3, parent: 1, name: builder.string("<img src=x onerror=alert(3)>\u{1B}[31m"), how: .child))
        try builder.append(.end(time: 5 * ms, task: 3, outcome: .returned))
        try builder.append(.cancel(time: 10 * ms, task: 2, by: 1, reason: .explicit, message: builder.string("</title><script>alert(4)</script>")))
        try builder.append(.caught(time: 11 * ms, task: 2, error: builder.string("Cancellation</text>Error")))
        try builder.append(.end(time: 12 * ms, task: 2, outcome: .returned))
        try builder.append(.end(time: 20 * ms, task: 1, outcome: .returned))
        try builder.close(time: 20 * ms)
        return try TraceAnalyzer().analyze(TraceReader(bytes: builder.sink.bytes), keepTasks: true)
    }
}
