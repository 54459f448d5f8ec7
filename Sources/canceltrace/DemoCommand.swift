import ArgumentParser
import Foundation
import Samples
import TraceAnalysis
import TraceRendering

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Record the built-in scenarios and show their timelines and findings.",
        discussion: """
            Runs each scenario (correct and buggy uses of cancellation) under the recorder, writes \
            DIR/<scenario>.ctrace, and prints its timeline and what `check` finds. Exits 0 when every scenario \
            gives exactly its expected findings.

            Scenarios: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).

            Example:
              canceltrace demo --output /tmp/demo --scenario swallow-catch-all
            """
    )

    @Option(help: "Folder for the recorded traces (created if missing).")
    var output = "canceltrace-demo"

    @Option(name: .customLong("scenario"), parsing: .singleValue,
            help: ArgumentHelp("Run only this scenario. Repeatable.", valueName: "name"))
    var scenarios: [String] = []

    @OptionGroup var display: DisplayOptions

    func validate() throws {
        for name in scenarios where Scenario(rawValue: name) == nil {
            throw ValidationError("unknown scenario \(name); known: \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw TraceInput.fail(output, "cannot create the output folder: \(error.localizedDescription)")
        }
        let selected = scenarios.isEmpty ? Scenario.allCases : scenarios.compactMap(Scenario.init(rawValue:))
        let style = display.style
        let width = display.resolvedWidth
        var unexpected: [String] = []
        for scenario in selected {
            let path = (output as NSString).appendingPathComponent("\(scenario.rawValue).ctrace")
            do {
                try await scenario.record(to: path)
            } catch {
                throw TraceInput.fail(path, "recording failed: \(error)")
            }
            let report = try TraceInput.analyze(path, keepTasks: true)
            let expected = scenario.expectedRules.sorted()
            let found = Set(report.findings.map(\.rule)).sorted()
            print(style.bold("━━ \(scenario.rawValue)") + style.dim(" — \(scenario.summary)"))
            print(try TimelineRenderer(width: width, style: style).render(report, title: path))
            print()
            if report.findings.isEmpty {
                print(style.green("no findings"))
            } else {
                let diagnostics = DiagnosticsRenderer(style: style)
                print(report.findings.map(diagnostics.render).joined(separator: "\n"))
            }
            let verdict = found == expected
                ? style.green("✓ as expected") + " (\(expected.isEmpty ? "correct code: no findings" : "flagged " + expected.joined(separator: ", ")))"
                : style.boldRed("✗ unexpected") + ": expected [\(expected.joined(separator: ", "))], found [\(found.joined(separator: ", "))]"
            if found != expected { unexpected.append(scenario.rawValue) }
            print(verdict)
            print()
        }
        print("traces written to \(output)/ — try: canceltrace check \(output)/swallow-catch-all.ctrace")
        if !unexpected.isEmpty {
            TraceInput.printError("scenarios with unexpected findings: \(unexpected.joined(separator: ", "))")
            throw ExitCode(1)
        }
    }
}
