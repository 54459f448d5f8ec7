import TraceAnalysis
import TraceRendering

/// `lint` findings in the style of the Swift compiler: `file:line:column: level[rule]: message`, the source line
/// with a caret under the region, notes, help last; then a count.
public struct LintTextRenderer: Sendable {
    public var style: Style

    public init(style: Style) { self.style = style }

    public func render(_ finding: LintFinding) -> String {
        let head = switch finding.level {
        case .error: style.boldRed("error[\(finding.rule)]")
        case .warning: style.boldYellow("warning[\(finding.rule)]")
        case .note: style.bold("note[\(finding.rule)]")
        }
        let location = "\(TerminalText.escape(finding.file, maxCharacters: 300)):\(finding.start.line):\(finding.start.column)"
        var lines = ["\(style.bold(location + ":")) \(head)\(style.bold(": " + finding.message))"]
        let number = String(finding.start.line)
        let gutter = String(repeating: " ", count: number.count)
        let source = finding.sourceLine.replacingOccurrences(of: "\t", with: " ")
        if !source.isEmpty {
            let caretStart = max(0, min(finding.start.column - 1, source.utf8.count))
            let caretEnd = finding.end.line == finding.start.line ? max(finding.end.column - 1, caretStart + 1) : source.utf8.count
            let prefix = String(decoding: source.utf8.prefix(caretStart), as: UTF8.self)
            let width = max(1, String(decoding: source.utf8.dropFirst(caretStart).prefix(caretEnd - caretStart), as: UTF8.self).count)
            lines.append(" \(style.blue(number + " |")) \(TerminalText.escape(source, maxCharacters: 300))")
            let pad = String(repeating: " ", count: prefix.count)
            lines.append(" \(style.blue(gutter + " |")) \(pad)\(style.boldRed("^" + String(repeating: "~", count: width - 1)))")
        }
        lines.append(" \(gutter)\(style.blue(" =")) note: in \(finding.function)")
        for note in finding.notes { lines.append(" \(gutter)\(style.blue(" =")) note: \(note)") }
        lines.append(" \(gutter)\(style.blue(" =")) help: \(finding.help)")
        return lines.joined(separator: "\n")
    }

    /// Every finding and a closing count (unreadable paths go to stderr, from the command).
    public func render(_ report: LintReport) -> String {
        (report.findings.map(render) + [summary(report)]).joined(separator: "\n\n")
    }

    /// `1 error, 2 warnings in 312 files` or `no findings in 312 files`.
    public func summary(_ report: LintReport) -> String {
        let counts = report.levelCounts
        let parts = Level.allCases.reversed().compactMap { level -> String? in
            guard let count = counts[level], count > 0 else { return nil }
            return "\(count) \(level.rawValue)\(count == 1 ? "" : "s")"
        }
        let files = "\(report.filesChecked) file\(report.filesChecked == 1 ? "" : "s")"
        if parts.isEmpty { return style.green("no findings") + " in \(files)" }
        return parts.joined(separator: ", ") + " in \(files)"
    }
}
