import TraceAnalysis

/// A position in a source file, 1-based, columns in UTF-8 bytes (what the Swift compiler and SARIF's default use).
public struct SourcePosition: Sendable, Hashable, Codable, Comparable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public static func < (lhs: SourcePosition, rhs: SourcePosition) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }
}

/// One static finding: where, which rule, and why.
public struct LintFinding: Sendable, Hashable, Codable {
    public var file: String
    public var start: SourcePosition
    public var end: SourcePosition
    public var rule: String
    public var level: Level
    public var message: String
    public var notes: [String]
    public var help: String
    /// The function, initializer or closure the finding is in: `run()`, `init(config:)`, `closure in run()`.
    public var function: String
    /// The source line the finding starts on, for the caret display.
    public var sourceLine: String

    public init(file: String, start: SourcePosition, end: SourcePosition, rule: String, level: Level, message: String,
                notes: [String] = [], help: String, function: String, sourceLine: String) {
        self.file = file
        self.start = start
        self.end = end
        self.rule = rule
        self.level = level
        self.message = message
        self.notes = notes
        self.help = help
        self.function = function
        self.sourceLine = sourceLine
    }
}
