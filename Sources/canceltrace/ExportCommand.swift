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
        // The input first: a missing trace is reported as such, before any output is created.
        let reader = try TraceInput.open(input.file)
        let destination = try Output.open(target, input: input.file)
        // Streamed: each task goes out as the analysis ends it, so memory stays bounded by the live tasks.
        let gzip = target.hasSuffix(".json") ? nil : try GzipStream()
        var failure: (any Error)?
        func send(_ bytes: [UInt8], finish: Bool = false) {
            guard failure == nil else { return }
            do {
                try destination.write(try gzip?.compress(bytes, finish: finish) ?? bytes)
            } catch {
                failure = error
            }
        }
        var stream = PerfettoStream(file: input.file) { send($0) }
        var tasks = 0
        let report = try TraceInput.analyze(input.file, reader: reader, configuration: try rules.configuration(), keepTasks: false,
                                            progress: progress) { task, now in
            stream.add(task, traceEnd: now)
            tasks += 1
        }
        stream.finish(findings: report.findings, info: report.info)
        send([], finish: true)
        if let failure { throw failure }
        try destination.commit()
        if target != "-" && !progress.quiet {
            StandardError.write("wrote \(TerminalText.escape(target, maxCharacters: 300)) (\(tasks) task\(tasks == 1 ? "" : "s"), \(report.findings.count) finding\(report.findings.count == 1 ? "" : "s"))\n")
        }
        try TraceInput.finish(input.file, report)
    }
}
