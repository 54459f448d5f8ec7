import ArgumentParser
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

            Example:
              canceltrace timeline app.ctrace --width 120 --task long_task
            """
    )

    @OptionGroup var input: InputOptions
    @OptionGroup var display: DisplayOptions

    @Option(help: ArgumentHelp("Show only this task (id or exact name), its ancestors and descendants.", valueName: "id|name"))
    var task: String?

    @Option(help: "Most lanes to draw before collapsing and cutting.")
    var maxLanes = 40

    func run() throws {
        let report = try TraceInput.analyze(input.file, keepTasks: true)
        let renderer = TimelineRenderer(width: display.resolvedWidth, style: display.style, maxLanes: maxLanes)
        do {
            print(try renderer.render(report, title: input.file, focus: task))
        } catch {
            throw TraceInput.fail(input.file, error.description)
        }
        let notes = TraceNotes.lines(for: report, style: display.style)
        if !notes.isEmpty { print(notes.joined(separator: "\n")) }
        try TraceInput.finish(input.file, report)
    }
}
