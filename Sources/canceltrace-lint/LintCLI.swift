import ArgumentParser
import CancelLint
import Foundation
import TraceAnalysis
import TraceFormat
import TraceRendering

extension ColorMode: ExpressibleByArgument {}

/// `canceltrace-lint`, also run as `canceltrace lint`: the static check for swallowed cancellation (Docs/Lint.md).
@main
struct LintCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canceltrace-lint",
        abstract: "Find swallowed cancellation in Swift source.",
        discussion: """
            Parses Swift files (folders are walked, skipping .build and hidden folders) and prints compiler-style \
            findings: `file:line:column: error[rule-id]: …`, the line with a caret, notes and a help line. \
            Silence one line with `// canceltrace: ignore[RULE] reason` on it or on the line above.
            Exit status: 0 when no finding is at error level, 1 when one is, 2 when a path cannot be read, \
            64 on bad arguments. Rules: `--list-rules`, or Docs/Lint.md.

            Examples:
              canceltrace lint Sources
              canceltrace lint Sources --format sarif > lint.sarif
              canceltrace lint . --level catch-swallows-cancellation=error --cancellable backoff.wait
            """,
        version: "0.1.0"
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, sarif }

    @Option(help: "Output format: text, json or sarif (SARIF 2.1.0 with regions).")
    var format: Format = .text

    @Option(name: .customLong("level"), parsing: .singleValue,
            help: ArgumentHelp("Set a rule's level: RULE=error|warning|note|off. Repeatable.", valueName: "rule=level"))
    var levels: [String] = []

    @Option(name: .customLong("cancellable"), parsing: .singleValue,
            help: ArgumentHelp("Also treat this call as throwing on cancellation: `Type.method`, `method(label:)` or `method`. Repeatable.",
                               valueName: "call"))
    var cancellable: [String] = []

    @Option(name: .customLong("site"), parsing: .singleValue,
            help: ArgumentHelp("With --format json: also list the findings a task spawned at this site runs into (`file:line (function)`, as trace `site` records hold). Repeatable.",
                               valueName: "location"))
    var sites: [String] = []

    @Option(help: "Colour: auto (when stdout is a terminal and NO_COLOR is unset), always, never.")
    var color: ColorMode = .auto

    @Flag(help: "List the rules with their levels, and exit.")
    var listRules = false

    @Argument(help: "Swift files or folders to lint.", completion: .file(extensions: ["swift"]))
    var paths: [String] = []

    func validate() throws {
        if !listRules && paths.isEmpty { throw ValidationError("Missing expected argument '<paths> ...'") }
        _ = try lintConfiguration()
    }

    func lintConfiguration() throws -> LintConfiguration {
        var configuration = LintConfiguration()
        for setting in levels {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--level \(setting): expected RULE=LEVEL") }
            guard let rule = LintRule.named(parts[0]) else {
                throw ValidationError("--level \(setting): unknown rule \(parts[0]); known: \(LintRule.all.map(\.id).joined(separator: ", "))")
            }
            if parts[1] == "off" {
                configuration.levels[rule.id] = .some(nil)
            } else if let level = Level(rawValue: parts[1]) {
                configuration.levels[rule.id] = level
            } else {
                throw ValidationError("--level \(setting): level must be error, warning, note or off")
            }
        }
        for call in cancellable where call.isEmpty || call.contains(" ") {
            throw ValidationError("--cancellable '\(call)': expected a call name such as Type.method or method(label:)")
        }
        configuration.cancellableCalls += cancellable
        return configuration
    }

    /// Writes `text` and a newline to stdout with checked writes: a full disk or a file-size limit is one error
    /// line and status 2, as for every `canceltrace` command (Docs/CLI.md), never a silent success.
    static func emit(_ text: String) {
        var bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }  // safe: offset < count, so the buffer is not empty
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                StandardError.write("canceltrace lint: error: stdout: cannot write: \(String(cString: strerror(errno)))\n")
                Foundation.exit(2)
            }
            offset += written
        }
    }

    func run() throws {
        _ = signal(SIGXFSZ, SIG_IGN)  // a file-size limit is a failed write, reported like a full disk
        let configuration = try lintConfiguration()
        if listRules {
            let width = LintRule.all.map(\.id.count).max() ?? 0
            for rule in LintRule.all {
                Self.emit("\(TerminalText.pad(rule.id, to: width))  \(TerminalText.pad(configuration.level(for: rule)?.rawValue ?? "off", to: 7))  \(rule.summary)")
            }
            return
        }
        let report = Linter(configuration: configuration).lint(paths: paths, sites: sites)
        switch format {
        case .text:
            let style = Style(enabled: color.resolved(isTerminal: isatty(STDOUT_FILENO) == 1, environment: ProcessInfo.processInfo.environment))
            Self.emit(LintTextRenderer(style: style).render(report))
        case .json: Self.emit(LintJSON.render(report))
        case .sarif: Self.emit(LintSARIF(configuration: configuration, toolVersion: CancelTraceVersion.current).render(report))
        }
        if !report.unreadable.isEmpty {
            for problem in report.unreadable {
                StandardError.write("canceltrace lint: error: \(TerminalText.escape(problem, maxCharacters: 300))\n")
            }
            throw ExitCode(2)
        }
        if report.highestLevel == .error { throw ExitCode(1) }
    }
}
