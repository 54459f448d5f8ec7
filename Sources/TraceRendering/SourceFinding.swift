import TraceAnalysis

/// A `canceltrace-lint` finding joined to a trace finding by its task's creation site (`check --source`).
///
/// The trace tools never link swift-syntax, so this is the part of the lint JSON (`sites[].findings[]`,
/// Docs/Lint.md) that `check` reads and shows again: enough to name the line and the rule.
public struct SourceFinding: Codable, Sendable, Hashable {
    public var file: String
    public var line: Int
    public var column: Int
    public var rule: String
    public var level: String
    public var message: String

    public init(file: String, line: Int, column: Int, rule: String, level: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.rule = rule
        self.level = level
        self.message = message
    }

    /// How many are printed under one trace finding before `… N more`.
    public static let shownPerFinding = 5

    /// `Sources/App/Poller.swift:44:13: warning[try-optional-cancellable]: …`, escaped: the file and message come
    /// from the source folder, not from this program.
    public var text: String {
        "\(TerminalText.escape(file, maxCharacters: 200)):\(line):\(column): "
            + "\(TerminalText.escape(level, maxCharacters: 20))[\(TerminalText.escape(rule, maxCharacters: 60))]: "
            + TerminalText.escape(message, maxCharacters: 300)
    }

    /// The `= lint:` lines under one trace finding: at most `shownPerFinding`, then how many more.
    public static func lines(_ findings: [SourceFinding]) -> [String] {
        var lines = findings.prefix(shownPerFinding).map { "lint: \($0.text)" }
        if findings.count > shownPerFinding {
            lines.append("lint: … \(findings.count - shownPerFinding) more (canceltrace lint DIR shows all)")
        }
        return lines
    }
}
