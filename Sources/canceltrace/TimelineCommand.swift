import ArgumentParser
import Foundation
import TraceAnalysis
import TraceFormat
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
        let lanes = maxLanes ?? (format == .text ? 40 : 200)
        let listed: Int? = switch format {
        case .text: nil
        case .svg: SVGTimelineRenderer.listedFindings
        case .html: HTMLTimelineRenderer(maxLanes: lanes).maxListedFindings
        }
        let (report, layout) = try Self.layOut(input.file, reader: reader, focus: task, maxLanes: lanes,
                                               listedFindings: listed, progress: progress)
        let title = Self.title(input.file)
        switch format {
        case .text:
            let renderer = TimelineRenderer(width: display.resolvedWidth, style: output == nil ? display.style : Style(enabled: false),
                                            maxLanes: lanes)
            var lines = [renderer.render(report, layout: layout, title: input.file)]
            lines.append(contentsOf: TraceNotes.lines(for: report, style: output == nil ? display.style : Style(enabled: false)))
            try destination.write(lines.joined(separator: "\n") + "\n")
        case .html:
            // In pieces: the 1 M-task page as one string (and the picture inside it as another) cost ~20 MB at the peak.
            try Self.writeInPieces(to: destination) { try HTMLTimelineRenderer(maxLanes: lanes).write(report, layout: layout, title: title, to: $0) }
        case .svg:
            try Self.writeInPieces(to: destination) { try SVGTimelineRenderer(maxLanes: lanes).write(report, layout: layout, title: title, to: $0) }
        }
        try destination.commit()
        try TraceInput.finish(input.file, report)
    }

    /// Analyzes `file` keeping every task in outline and full lifecycles only for the tasks likely drawn alone
    /// (the first `maxLanes` spawned under one parent with one name, at most 4 × `maxLanes` in all, and the
    /// focus), then lays out the lanes. A task drawn alone whose lifecycle was not kept is read again in a second
    /// pass; a file that cannot be read twice (a pipe) keeps every lifecycle in the first. A picture (SVG, HTML)
    /// needs who made each cancel for its tooltips, and the text of the findings it lists (the first
    /// `listedFindings`) and badges (those of the tasks drawn alone: kept with their lifecycles, or read again with
    /// them); the text timeline (`listedFindings` nil) keeps of a finding only its task and level, of a cancel
    /// only its time.
    static func layOut(_ file: String, reader: TraceReader? = nil, focus: String?, maxLanes: Int, listedFindings: Int?,
                       progress: ProgressOptions) throws -> (AnalysisReport, TimelineLayout) {
        let picture = listedFindings != nil
        var retention = OutlineRetention(perSiblingName: maxLanes, maxKept: min(maxLanes, 5_000) * 4,
                                         cancelDetails: picture)
        if let focus {
            retention.names = [focus]
            if let id = TaskID(focus.hasPrefix("#") ? String(focus.dropFirst()) : focus) { retention.ids = [id] }
        }
        let rereadable = TraceInput.isRegularFile(file)
        if !rereadable { retention.maxKept = .max; retention.perSiblingName = .max }
        var report = try TraceInput.analyze(file, reader: reader, keeping: .outline(retention), findingText: false,
                                            textOfFirstFindings: listedFindings, progress: progress)
        var layout: TimelineLayout
        do {
            layout = try TimelineLayout(taking: &report, focus: focus, maxLanes: maxLanes)
        } catch {
            throw TraceInput.fail(file, error.description)
        }
        let again = layout.idsToReadAgain(report, findingText: picture)
        if !again.isEmpty && rereadable {
            let second = try TraceInput.analyze(file, keeping: .only(again), keepFindings: picture, findingText: false,
                                                textOfFirstFindings: picture ? 0 : nil)
            layout.supply(second, to: &report)
        }
        return (report, layout)
    }

    /// Writes the pieces `produce` hands its sink to `output`, gathered into writes of 64 KiB.
    static func writeInPieces(to output: Output, _ produce: (_ sink: (String) throws -> Void) throws -> Void) throws {
        let size = 1 << 16
        var buffer: [UInt8] = []
        buffer.reserveCapacity(size)
        try produce { piece in
            buffer.append(contentsOf: piece.utf8)
            if buffer.count >= size {
                try output.write(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        try output.write(buffer)
    }

    /// Pictures are titled with the file's name, so they do not depend on where the command ran.
    static func title(_ file: String) -> String { (file as NSString).lastPathComponent }
}
