import ArgumentParser
import TraceRendering

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Summarise a trace: tasks, outcomes, cancels by reason, cancel latency percentiles.",
        discussion: """
            Cancel latency is the time from a task's first cancel request that was not withdrawn to its end.

            Example:
              canceltrace stats app.ctrace
            """
    )

    @OptionGroup var input: InputOptions
    @OptionGroup var display: ColorOptions
    @OptionGroup var progress: ProgressOptions

    func run() throws {
        // Stats prints finding counts only.
        let report = try TraceInput.analyze(input.file, keepTasks: false, keepFindings: false, progress: progress)
        try Output.printLine(StatsRenderer(style: display.style).render(report, file: input.file))
        try TraceInput.finish(input.file, report)
    }
}
