import ArgumentParser
import Foundation
import TraceAnalysis
import TraceFormat
import TraceRendering

/// Opening and analyzing a trace, with every read failure turned into one line on stderr and exit status 2.
enum TraceInput {
    /// Opens `file`, or reports why not and exits 2.
    static func open(_ file: String) throws -> TraceReader {
        do {
            return try TraceReader(path: CommandLineBytes.path(file))
        } catch {
            throw fail(file, error.description)
        }
    }

    /// Reads and analyzes `file`, with a progress bar on stderr when `progress` says so. `keepFindings: false`
    /// (for a command that prints only counts) counts findings without keeping them.
    static func analyze(_ file: String, reader: TraceReader? = nil, configuration: RuleConfiguration = RuleConfiguration(),
                        keepTasks: Bool, keepFindings: Bool = true, progress: ProgressOptions? = nil,
                        onTask: ((TaskLifecycle, UInt64) -> Void)? = nil) throws -> AnalysisReport {
        try analyze(file, reader: reader, configuration: configuration, keeping: keepTasks ? .all : .none,
                    keepFindings: keepFindings, progress: progress, onTask: onTask)
    }

    /// As above, keeping of the tasks what `keeping` says.
    static func analyze(_ file: String, reader: TraceReader? = nil, configuration: RuleConfiguration = RuleConfiguration(),
                        keeping: TaskKeeping, keepFindings: Bool = true, findingText: Bool = true,
                        textOfFirstFindings: Int? = nil, progress: ProgressOptions? = nil,
                        onTask: ((TaskLifecycle, UInt64) -> Void)? = nil) throws -> AnalysisReport {
        let reader = try reader ?? open(file)
        let bar = progress?.bar(for: file)
        defer { bar?.finish() }
        var analyzer = TraceAnalyzer(configuration: configuration)
        if !keepFindings { analyzer.maxFindings = 0 }
        analyzer.keepsFindingText = findingText
        analyzer.textOfFirstFindings = textOfFirstFindings
        do {
            return try analyzer
                .analyze(reader, keeping: keeping, onProgress: bar.map { bar in { bar.update(bytesRead: $0) } },
                         onTask: onTask)
        } catch {
            throw fail(file, error.description)
        }
    }

    /// Whether `file` is a regular file, so it can be read a second time (not a pipe or a terminal).
    static func isRegularFile(_ file: String) -> Bool {
        var info = stat()
        return stat(file, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// After output is written: a damaged trace still exits 2, with one line saying so.
    static func finish(_ file: String, _ report: AnalysisReport) throws {
        guard report.damaged else { return }
        let count = report.damagedChunks  // all of them, also past the notices kept
        throw fail(file, "damaged trace: \(count) chunk\(count == 1 ? "" : "s") or records skipped (see the notes above)")
    }

    /// Prints `file: message` as one error line (the name escaped: it may hold any byte) and returns exit status 2.
    static func fail(_ file: String, _ message: String) -> ExitCode {
        printError("\(TerminalText.escape(file, maxCharacters: 300)): \(message)")
        return ExitCode(2)
    }

    static func printError(_ message: String) {
        StandardError.write("canceltrace: error: \(message)\n")
    }
}
