import TraceAnalysis
import TraceFormat

/// Findings in the style of the Swift compiler and rustc: `error[rule-id]: one line`, indented notes, help last.
public struct DiagnosticsRenderer: Sendable {
    public var style: Style

    public init(style: Style) { self.style = style }

    public func render(_ finding: Finding) -> String {
        let head = switch finding.level {
        case .error: style.boldRed("error[\(finding.rule)]")
        case .warning: style.boldYellow("warning[\(finding.rule)]")
        case .note: style.bold("note[\(finding.rule)]")
        }
        var lines = ["\(head)\(style.bold(": " + TerminalText.escape(finding.message, maxCharacters: 500)))"]
        for note in finding.notes {
            lines.append("  \(style.blue("=")) note: \(TerminalText.escape(note, maxCharacters: 500))")
        }
        lines.append("  \(style.blue("=")) help: \(finding.help)")
        return lines.joined(separator: "\n")
    }

    /// Every finding, the reader's notices, and a closing count, for `check`.
    public func render(_ report: AnalysisReport, file: String) -> String {
        var blocks = report.findings.map(render)
        if report.elidedFindings > 0 {
            blocks.append(style.dim("… \(report.elidedFindings) more findings not shown"))
        }
        var tail = TraceNotes.lines(for: report, style: style)
        tail.append(summary(report, file: file))
        return (blocks + [tail.joined(separator: "\n")]).joined(separator: "\n\n")
    }

    /// `2 errors, 1 warning in app.ctrace` or `no findings in app.ctrace`.
    public func summary(_ report: AnalysisReport, file: String) -> String {
        let counts = report.levelCounts
        let parts = Level.allCases.reversed().compactMap { level -> String? in
            guard let count = counts[level], count > 0 else { return nil }
            return Plural.count(count, level.rawValue)
        }
        let name = TerminalText.escape(file, maxCharacters: 200)
        let allowed = report.suppressedFindings > 0 ? " (\(Plural.count(report.suppressedFindings, "finding")) allowed by --allow)" : ""
        if parts.isEmpty { return style.green("no findings") + " in \(name)" + allowed }
        return parts.joined(separator: ", ") + " in \(name)" + allowed
    }
}
