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

    /// Reads and analyzes `file`.
    static func analyze(_ file: String, configuration: RuleConfiguration = RuleConfiguration(),
                        keepTasks: Bool) throws -> AnalysisReport {
        let reader = try open(file)
        do {
            return try TraceAnalyzer(configuration: configuration).analyze(reader, keepTasks: keepTasks)
        } catch {
            throw fail(file, error.description)
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
