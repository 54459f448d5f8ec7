import ArgumentParser
import Foundation
import TraceAnalysis
import TraceFormat

/// Opening and analyzing a trace, with every read failure turned into one line on stderr and exit status 2.
enum TraceInput {
    /// Opens `file`, or reports why not and exits 2.
    static func open(_ file: String) throws -> TraceReader {
        do {
            return try TraceReader(path: file)
        } catch {
            throw fail(file, error.description)
        }
    }

    /// Reads and analyzes `file`, with a progress bar on stderr when `progress` says so. `keepFindings: false`
    /// (for a command that prints only counts) counts findings without keeping them.
    static func analyze(_ file: String, configuration: RuleConfiguration = RuleConfiguration(),
                        keepTasks: Bool, keepFindings: Bool = true, progress: ProgressOptions? = nil) throws -> AnalysisReport {
        try analyze(file, configuration: configuration, keeping: keepTasks ? .all : .none, keepFindings: keepFindings,
                    progress: progress)
    }

    /// As above, keeping of the tasks what `keeping` says.
    static func analyze(_ file: String, configuration: RuleConfiguration = RuleConfiguration(),
                        keeping: TaskKeeping, keepFindings: Bool = true, progress: ProgressOptions? = nil) throws -> AnalysisReport {
        let reader = try open(file)
        let bar = progress?.bar(for: file)
        defer { bar?.finish() }
        var analyzer = TraceAnalyzer(configuration: configuration)
        if !keepFindings { analyzer.maxFindings = 0 }
        do {
            return try analyzer
                .analyze(reader, keeping: keeping, onProgress: bar.map { bar in { bar.update(bytesRead: $0) } })
        } catch {
            throw fail(file, error.description)
        }
    }

    /// Whether `file` is a regular file, so it can be read a second time (not a pipe or a terminal).
    static func isRegularFile(_ file: String) -> Bool {
        var info = stat()
        return stat(file, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Writes `bytes` to `output`, or to stdout when it is `-`; a failure is one line and exit status 2.
    static func write(_ bytes: [UInt8], to output: String) throws {
        if output == "-" {
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        do {
            try Data(bytes).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw fail(output, "cannot write: \((error as NSError).localizedDescription)")
        }
    }

    /// After output is written: a damaged trace still exits 2, with one line saying so.
    static func finish(_ file: String, _ report: AnalysisReport) throws {
        guard report.damaged else { return }
        let count = report.notices.filter(\.isDamage).count
        throw fail(file, "damaged trace: \(count) chunk\(count == 1 ? "" : "s") or records skipped (see the notes above)")
    }

    static func fail(_ file: String, _ message: String) -> ExitCode {
        printError("\(file): \(message)")
        return ExitCode(2)
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("canceltrace: error: \(message)\n".utf8))
    }
}
