import ArgumentParser
import Foundation
import TraceAnalysis
import TraceRendering

struct TimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Draw one lane per task, nested under its parent, on a time axis.",
        discussion: """
            Markers: ├ spawn, ✕ cancel requested, c cancellation caught, [ ] cleanup, r rethrow, * mark, ┤ end; \
            ╌ is time a task kept running after its cancel request. A ✗ or ! before a lane marks an error or \
            warning finding (run `check` for the details). The outcome is at the right.

            Large traces collapse sibling tasks with the same name into one lane (name ×count) and cut the rest.

            --format html writes one self-contained page (no network) with zoom and pan, cancel arrows and the \
            findings; --format svg writes a picture to embed. Both go to --output, or to stdout. See Docs/Exports.md.

            Examples:
              canceltrace timeline app.ctrace --width 120 --task long_task
              canceltrace timeline app.ctrace --format html -o app.html
              canceltrace timeline app.ctrace --format svg -o app.svg
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, html, svg }

    @OptionGroup var input: InputOptions
    @OptionGroup var display: DisplayOptions
    @OptionGroup var progress: ProgressOptions

    @Option(help: "Output format: text, html or svg.")
    var format: Format = .text

    @Option(name: .shortAndLong, help: ArgumentHelp("Write the timeline to this file instead of stdout.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Show only this task (id or exact name), its ancestors and descendants.", valueName: "id|name"))
    var task: String?

    @Option(help: "Most lanes to draw before collapsing and cutting (default: 40 for text, 200 for html and svg).")
    var maxLanes: Int?

    func run() throws {
        let reader = try TraceInput.open(input.file)
        let destination = try output.map { try Output.open($0, input: input.file) } ?? .standardOutput
        let report = try TraceInput.analyze(input.file, reader: reader, keepTasks: true, progress: progress)
        let text: String
        do {
            switch format {
            case .text:
                let renderer = TimelineRenderer(width: display.resolvedWidth, style: output == nil ? display.style : Style(enabled: false),
                                                maxLanes: maxLanes ?? 40)
                var lines = [try renderer.render(report, title: input.file, focus: task)]
                lines.append(contentsOf: TraceNotes.lines(for: report, style: output == nil ? display.style : Style(enabled: false)))
                text = lines.joined(separator: "\n") + "\n"
            case .html:
                text = try HTMLTimelineRenderer(maxLanes: maxLanes ?? 200).render(report, title: Self.title(input.file), focus: task)
            case .svg:
                text = try SVGTimelineRenderer(maxLanes: maxLanes ?? 200).render(report, title: Self.title(input.file), focus: task)
            }
        } catch {
            throw TraceInput.fail(input.file, error.description)
        }
        try destination.write(text)
        try destination.commit()
        try TraceInput.finish(input.file, report)
    }

    /// Pictures are titled with the file's name, so they do not depend on where the command ran.
    static func title(_ file: String) -> String { (file as NSString).lastPathComponent }
}
