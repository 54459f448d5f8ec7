import ArgumentParser
import Foundation
import TraceRendering

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Convert a trace for other tools: Perfetto / chrome://tracing.",
        discussion: """
            --format perfetto writes Chrome Trace Event JSON, gzip-compressed unless the output name ends in \
            .json: one track per task with an async slice from spawn to end, instants for cancel requests, \
            catches, cleanups, rethrows and findings, and a flow arrow from each canceller to its target. Open it \
            at ui.perfetto.dev (Open trace file) or in chrome://tracing. See Docs/Exports.md.

            Examples:
              canceltrace export app.ctrace --format perfetto -o app.json.gz
              canceltrace export app.ctrace -o - | gunzip | jq '.traceEvents | length'
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case perfetto }

    @OptionGroup var input: InputOptions
    @OptionGroup var rules: RuleOptions
    @OptionGroup var progress: ProgressOptions

    @Option(help: "Export format: perfetto.")
    var format: Format = .perfetto

    @Option(name: .shortAndLong,
            help: ArgumentHelp("Output file (default: the trace's name with .json.gz); - for stdout.", valueName: "file"))
    var output: String?

    func run() throws {
        let target = output ?? ((input.file as NSString).deletingPathExtension + ".json.gz")
        let destination = try Output.open(target, input: input.file)
        let report = try TraceInput.analyze(input.file, configuration: try rules.configuration(), keepTasks: true, progress: progress)
        let exporter = PerfettoExporter()
        let bytes: [UInt8]
        if target.hasSuffix(".json") {
            bytes = exporter.json(report, file: input.file)
        } else {
            do {
                bytes = try exporter.gzip(report, file: input.file)
            } catch {
                throw TraceInput.fail(target, "\(error)")
            }
        }
        try destination.write(bytes)
        try destination.commit()
        if target != "-" && !progress.quiet {
            FileHandle.standardError.write(Data("wrote \(TerminalText.escape(target, maxCharacters: 300)) (\(report.tasks.count) task\(report.tasks.count == 1 ? "" : "s"), \(report.findings.count) finding\(report.findings.count == 1 ? "" : "s"))\n".utf8))
        }
        try TraceInput.finish(input.file, report)
    }
}
