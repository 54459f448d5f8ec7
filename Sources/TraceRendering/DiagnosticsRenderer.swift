import TraceAnalysis
import TraceFormat

/// Findings in the style of the Swift compiler and rustc: `error[rule-id]: one line`, indented notes, help last.
public struct DiagnosticsRenderer: Sendable {
    public var style: Style
    /// Whether findings of one rule about tasks made at one place print as one (`FindingGroup`).
    public var grouped: Bool
    /// Lines printed as `= LINE` under a finding, before its help: `check --source` puts the lint findings of the
    /// task's code there (`SourceFinding.lines`). The provider escapes what it returns.
    public var extraLines: (@Sendable (Finding) -> [String])?

    public init(style: Style, grouped: Bool = true, extraLines: (@Sendable (Finding) -> [String])? = nil) {
        self.style = style
        self.grouped = grouped
        self.extraLines = extraLines
    }

    public func render(_ finding: Finding) -> String { render(finding, alsoIn: nil) }

    /// A finding, and when it stands for a group, how many more tasks had it.
    private func render(_ finding: Finding, alsoIn group: FindingGroup?) -> String {
        let head = switch finding.level {
        case .error: style.boldRed("error[\(finding.rule)]")
        case .warning: style.boldYellow("warning[\(finding.rule)]")
        case .note: style.bold("note[\(finding.rule)]")
        }
        var lines = ["\(head)\(style.bold(": " + TerminalText.escape(finding.message, maxCharacters: 500)))"]
        for note in finding.notes {
            lines.append("  \(style.blue("=")) note: \(TerminalText.escape(note, maxCharacters: 500))")
        }
        if let group, group.count > 1 {
            let place = finding.site.isEmpty ? "with the same name" : "created at the same place"
            let worst = finding.magnitude > 0 ? "the worst shown; " : ""
            lines.append("  \(style.blue("=")) note: \(Plural.count(group.count - 1, "more task")) \(place) had this finding between \(TraceTime.seconds(group.firstTime)) and \(TraceTime.seconds(group.lastTime)) (\(worst)`--no-group` lists each)")
        }
        for line in extraLines?(finding) ?? [] { lines.append("  \(style.blue("=")) \(line)") }
        lines.append("  \(style.blue("=")) help: \(finding.help)")
        return lines.joined(separator: "\n")
    }

    /// Every finding, the reader's notices, and a closing count, for `check`.
    public func render(_ report: AnalysisReport, file: String) -> String {
        var blocks = grouped
            ? FindingGroup.group(report.findings).map { render($0.worst, alsoIn: $0) }
            : report.findings.map(render)
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
        let allowed = report.suppressedFindings > 0 ? " (\(Plural.count(report.suppressedFindings, "finding")) allowed by --allow or an ignore mark)" : ""
        if parts.isEmpty { return style.green("no findings") + " in \(name)" + allowed }
        return parts.joined(separator: ", ") + " in \(name)" + allowed
    }
}
