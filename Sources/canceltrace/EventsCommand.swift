import ArgumentParser
import TraceFormat
import TraceRendering

struct EventsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "List every event in order, with its fields.",
        discussion: """
            One line per event: time in seconds since the trace started, the kind, and its fields as the trace \
            format defines them (Docs/TraceFormat.md). Streams: memory does not grow with the file.

            Example:
              canceltrace events app.ctrace | grep cancel
            """
    )

    @OptionGroup var input: InputOptions
    @OptionGroup var display: ColorOptions

    func run() throws {
        let reader = try TraceInput.open(input.file)
        var renderer = EventListRenderer(style: display.style)
        var output = ""
        do {
            while let event = try reader.next() {
                guard let line = renderer.line(for: event, strings: reader.strings) else { continue }
                output += line
                output += "\n"
                if output.utf8.count > 1 << 16 {
                    try Output.standardOutput.write(output)
                    output = ""
                }
            }
        } catch let error as TraceReadError {
            try Output.standardOutput.write(output)
            throw TraceInput.fail(input.file, error.description)
        }
        try Output.standardOutput.write(output)
        for notice in reader.notices { try Output.printLine((notice.isDamage ? "damaged: " : "note: ") + notice.description) }
        if reader.sawDamage {
            let count = reader.damagedChunks
            throw TraceInput.fail(input.file,
                                  "damaged trace: \(count) chunk\(count == 1 ? "" : "s") or records skipped (see the notes above)")
        }
    }
}
