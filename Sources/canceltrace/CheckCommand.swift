import ArgumentParser
import TraceFormat
import TraceAnalysis
import TraceRendering

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Flag swallowed cancellations and related mistakes.",
        discussion: """
            Prints compiler-style findings: `error[rule-id]: …` with who cancelled the task and why, and a help \
            line. Exit status: 0 when no finding is at error level, 1 when one is, 2 on bad input, 3 when the \
            trace has no `close` record (the process ended before its recorder stopped) and no finding is at \
            error level. \
            `--source DIR` adds the lint findings in each finding's task code (from canceltrace-lint); they do \
            not change the exit status, and a missing or failing canceltrace-lint is one note on stderr.
            Rules and their levels: `canceltrace check --list-rules`, or Docs/Rules.md.

            Examples:
              canceltrace check app.ctrace
              canceltrace check app.ctrace --format json
              canceltrace check app.ctrace --source Sources
              canceltrace check app.ctrace --format sarif > canceltrace.sarif
              canceltrace check app.ctrace --level completed-after-cancel=error --threshold slow-cleanup=1s
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, sarif }

    @OptionGroup var rules: RuleOptions
    @OptionGroup var display: ColorOptions
    @OptionGroup var progress: ProgressOptions

    @Option(help: "Output format: text, json (Docs/Exports.md) or sarif (SARIF 2.1.0).")
    var format: Format = .text

    @Flag(help: "Text output: list every finding, instead of one per rule and place the tasks were created (with a count).")
    var noGroup = false

    @Option(help: ArgumentHelp("Swift source folder: show, under each finding, the lint findings in its task's code (runs canceltrace-lint; Docs/Lint.md).", valueName: "dir"))
    var source: String?

    @Flag(help: "List the rules with their levels and thresholds, and exit.")
    var listRules = false

    @Argument(help: "The trace file (.ctrace) to check.", completion: .file(extensions: ["ctrace"]))
    var file: String?

    func validate() throws {
        if !listRules && file == nil { throw ValidationError("Missing expected argument '<file>'") }
    }

    func run() throws {
        if listRules {
            try Output.printLine(RuleList.render(configuration: try rules.configuration()))
            return
        }
        let file = file!
        let configuration = try rules.configuration()
        let report = try TraceInput.analyze(file, configuration: configuration, keepTasks: false, progress: progress)
        // SARIF stays as it is: its results carry no nested lint findings.
        let lint = format == .sarif ? nil : source.flatMap { SourceLint.run(source: $0, findings: report.findings) }
        switch format {
        case .text:
            let extraLines = lint.map { lint in { @Sendable (finding: Finding) in SourceFinding.lines(lint.findings(for: finding)) } }
            try Output.printLine(DiagnosticsRenderer(style: display.style, grouped: !noGroup, extraLines: extraLines).render(report, file: file))
        case .json: try Output.printLine(FindingsJSON.render(report, file: file, lint: lint.map { $0.findings(for:) }))
        case .sarif: try Output.printLine(SARIFRenderer(configuration: configuration, toolVersion: CancelTraceVersion.current).render(report, file: file))
        }
        try TraceInput.finish(file, report)
        if report.highestLevel == .error { throw ExitCode(1) }
        if report.cutShort { throw Self.incomplete(file) }
    }

    /// Exit status 3: without `close`, tasks still running when the process stopped (`os._exit`, a crash, a
    /// kill) were never judged, so "no error" is not "clean". Errors found anyway keep status 1.
    static func incomplete(_ file: String) -> ExitCode {
        StandardError.write("canceltrace: warning: \(TerminalText.escape(file, maxCharacters: 300)): incomplete trace: "
                            + "no close record (the process stopped before its recorder did), so tasks still running "
                            + "then were not judged; exit status 3\n")
        return ExitCode(3)
    }
}

/// `check --list-rules`: the same values Docs/Rules.md is checked against.
enum RuleList {
    static func render(configuration: RuleConfiguration) -> String {
        let rows = Rules.all.map { rule in
            let level = configuration.isEnabled(rule) ? configuration.level(for: rule).rawValue : "off"
            let threshold = rule.defaultThreshold.map { _ in TraceTime.duration(configuration.threshold(for: rule)) } ?? "-"
            return (rule.id, level, threshold, rule.summary)
        }
        let idWidth = rows.map(\.0.count).max() ?? 0
        return rows.map { row in
            "\(TerminalText.pad(row.0, to: idWidth))  \(TerminalText.pad(row.1, to: 7))  \(TerminalText.pad(row.2, to: 9))  \(row.3)"
        }.joined(separator: "\n")
    }
}
