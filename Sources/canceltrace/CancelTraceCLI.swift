import ArgumentParser
import TraceFormat

@main
struct CancelTraceCLI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canceltrace",
        abstract: "Show the life of async tasks and flag swallowed cancellations.",
        discussion: """
            Reads trace files written by the CancelTrace recorders (Swift or Python) and shows timelines, \
            events, statistics and findings.

            Exit status: 0 success (for check: no error-level finding); 1 check found an error-level finding; \
            2 bad input (missing file, not a trace, damaged trace, unsupported version); 64 bad arguments.

            Examples:
              canceltrace demo
              canceltrace timeline app.ctrace --width 120
              canceltrace check app.ctrace --threshold slow-cancellation=250ms
              canceltrace timeline app.ctrace --format html -o app.html
              canceltrace export app.ctrace --format perfetto -o app.json.gz
            """,
        version: CancelTraceVersion.current,
        subcommands: [DemoCommand.self, TimelineCommand.self, CheckCommand.self, EventsCommand.self, StatsCommand.self,
                      ExportCommand.self, GenerateCommand.self]
    )
}
