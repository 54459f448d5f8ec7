import TraceAnalysis
import TraceFormat

/// `canceltrace stats`: what the trace holds, in a few aligned lines.
public struct StatsRenderer: Sendable {
    public var style: Style

    public init(style: Style) { self.style = style }

    public func render(_ report: AnalysisReport, file: String) -> String {
        let stats = report.stats
        var rows: [(String, String)] = []
        var origin = [report.info[TraceInfo.Key.runtime], report.info[TraceInfo.Key.process].map { "process \($0)" },
                      report.info[TraceInfo.Key.pid].map { "pid \($0)" }].compactMap { $0 }
        if origin.isEmpty { origin = ["no metadata"] }
        rows.append(("trace", "\(TerminalText.escape(file, maxCharacters: 120)) (\(TerminalText.escape(origin.joined(separator: ", "))))"))
        rows.append(("duration", TraceTime.duration(report.traceEnd)))
        rows.append(("events", "\(stats.events)"))
        let outcomes = Outcome.allCases.map { "\(stats.outcomes[$0] ?? 0) \($0.label)" } + ["\(stats.unended) never ended"]
        rows.append(("tasks", "\(stats.tasks): " + outcomes.joined(separator: ", ")))
        let kinds = SpawnKind.allCases.compactMap { kind in stats.spawnKinds[kind].map { "\($0) \(kind.label)" } }
        if !kinds.isEmpty { rows.append(("started as", kinds.joined(separator: ", "))) }
        rows.append(("peak live tasks", "\(stats.peakLiveTasks)"))
        let cancelTotal = stats.cancelsByReason.values.reduce(0, +)
        let reasons = CancelReason.allCases.compactMap { reason in stats.cancelsByReason[reason].map { "\($0) \(reason.label)" } }
        rows.append(("cancel requests", "\(cancelTotal)" + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: ", "))
                     + (stats.withdrawnCancels > 0 ? " (\(stats.withdrawnCancels) withdrawn)" : "")))
        rows.append(("caught / rethrew", "\(Plural.count(stats.tasksThatCaught, "task")) caught their own cancellation, \(stats.tasksThatRethrew) rethrew"))
        rows.append(("cleanups", "\(stats.cleanups)"))
        if let p50 = stats.cancelLatency(atPercentile: 50), let p90 = stats.cancelLatency(atPercentile: 90),
           let p99 = stats.cancelLatency(atPercentile: 99), let max = stats.cancelLatencyMax {
            rows.append(("cancel latency", "p50 \(TraceTime.duration(p50))  p90 \(TraceTime.duration(p90))  p99 \(TraceTime.duration(p99))  max \(TraceTime.duration(max))  (\(Plural.count(Int(stats.cancelLatencyCount), "task")))"))
        } else {
            rows.append(("cancel latency", "no cancelled task ended"))
        }
        rows.append(("dropped events", "\(stats.droppedEvents)"))
        let findings = Level.allCases.reversed().map { Plural.count(report.levelCounts[$0] ?? 0, $0.rawValue) }
        rows.append(("findings", findings.joined(separator: ", ")))
        let keyWidth = rows.map(\.0.count).max() ?? 0
        var lines = rows.map { style.bold(TerminalText.pad($0.0, to: keyWidth)) + "  " + $0.1 }
        lines.append(contentsOf: TraceNotes.lines(for: report, style: style))
        return lines.joined(separator: "\n")
    }
}

/// `1 task`, `2 tasks`.
enum Plural {
    static func count(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
}
