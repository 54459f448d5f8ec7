import Foundation
import TraceAnalysis

/// `lint --format json`: one document, keys sorted; the contract `check --source` reads (Docs/Lint.md).
public enum LintJSON {
    public static let version = 1

    public static func render(_ report: LintReport) -> String {
        let findings: [[String: Any]] = report.findings.map(object)
        let counts = Dictionary(uniqueKeysWithValues: Level.allCases.map { ($0.rawValue, report.levelCounts[$0] ?? 0) })
        var document: [String: Any] = [
            "version": version, "filesChecked": report.filesChecked, "findings": findings, "counts": counts,
            "unreadable": report.unreadable,
        ]
        if !report.sites.isEmpty {
            document["sites"] = report.sites.map { match -> [String: Any] in
                var entry: [String: Any] = ["site": match.site, "findings": match.findings.map(object)]
                if let file = match.file { entry["file"] = file }
                return entry
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func object(_ finding: LintFinding) -> [String: Any] {
        [
            "file": finding.file, "line": finding.start.line, "column": finding.start.column,
            "endLine": finding.end.line, "endColumn": finding.end.column, "rule": finding.rule,
            "level": finding.level.rawValue, "message": finding.message, "notes": finding.notes,
            "help": finding.help, "function": finding.function,
        ]
    }

    /// Reads findings back from `render`'s output (for `check --source`, which runs `canceltrace-lint`).
    public static func parse(_ data: Data) -> [LintFinding]? {
        guard let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let findings = document["findings"] as? [[String: Any]]
        else { return nil }
        return findings.compactMap { entry in
            guard let file = entry["file"] as? String, let line = entry["line"] as? Int, let column = entry["column"] as? Int,
                  let rule = entry["rule"] as? String, let level = (entry["level"] as? String).flatMap(Level.init),
                  let message = entry["message"] as? String
            else { return nil }
            return LintFinding(
                file: file, start: SourcePosition(line: line, column: column),
                end: SourcePosition(line: entry["endLine"] as? Int ?? line, column: entry["endColumn"] as? Int ?? column),
                rule: rule, level: level, message: message, notes: entry["notes"] as? [String] ?? [],
                help: entry["help"] as? String ?? "", function: entry["function"] as? String ?? "", sourceLine: "")
        }
    }
}
