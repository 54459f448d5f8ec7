import Foundation
import TraceAnalysis
import TraceRendering

/// `check --source DIR`: the lint findings in the code of each finding's task, from one run of
/// `canceltrace-lint DIR --format json --site SITE…` (Docs/Lint.md, "Joined with traces").
///
/// `canceltrace` does not link swift-syntax, so it runs the lint tool and reads its JSON. The lint half is
/// optional: when the tool is missing or fails, `run` says so in one stderr line and returns nil, and `check`
/// prints its findings and exits as it would without `--source`.
struct SourceLint {
    /// Lint findings by the site string as the trace recorded it.
    let bySite: [String: [SourceFinding]]

    func findings(for finding: Finding) -> [SourceFinding] { finding.site.isEmpty ? [] : bySite[finding.site] ?? [] }

    /// At most this many distinct sites are passed on (the rest get no lint lines), each at most `siteLength`
    /// bytes: sites come from the trace, and the command line is finite.
    static let siteLimit = 2000
    static let siteLength = 1000

    static func run(source: String, findings: [Finding]) -> SourceLint? {
        var seen: Set<String> = []
        let sites = findings.map(\.site).filter {
            !$0.isEmpty && $0.utf8.count <= siteLength && !$0.contains("\0") && seen.insert($0).inserted
        }.prefix(siteLimit)
        if sites.isEmpty { return SourceLint(bySite: [:]) }
        guard let tool = LintTool.path() else {
            note("canceltrace-lint not found beside \(LintTool.ownDirectory()) (or CANCELTRACE_LINT); findings shown without lint")
            return nil
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        // `--site=SITE` and `--` so that a site or folder starting with `-` is not read as an option.
        process.arguments = ["--format", "json"] + sites.map { "--site=\($0)" } + ["--", source]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            note("cannot run \(tool): \(error.localizedDescription); findings shown without lint")
            return nil
        }
        // Read stderr on the side, so that a chatty tool cannot block on a full pipe while stdout is read.
        let errors = SideReader(err.fileHandleForReading)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stderr = errors.wait()
        let status = process.terminationStatus
        let first = String(decoding: stderr, as: UTF8.self).split(separator: "\n").first.map { ": " + $0 } ?? ""
        // 0 and 1 are canceltrace-lint's successes (1: an error-level lint finding); 2: some path was unreadable,
        // the rest was linted.
        guard process.terminationReason == .exit, (0...2).contains(status), let parsed = parse(data) else {
            let why = process.terminationReason == .exit ? "exit status \(status)" : "signal \(status)"
            note("canceltrace-lint failed (\(why)\(first)); findings shown without lint")
            return nil
        }
        if status == 2 { note("canceltrace-lint could not read everything (exit status 2\(first)); lint shown for what it read") }
        return SourceLint(bySite: parsed)
    }

    /// The `sites` array of the lint JSON: `[{site, file?, findings: [{file, line, column, rule, level, message, …}]}]`.
    static func parse(_ data: Data) -> [String: [SourceFinding]]? {
        guard let document = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let sites = document["sites"] as? [[String: Any]] ?? []
        var bySite: [String: [SourceFinding]] = [:]
        for entry in sites {
            guard let site = entry["site"] as? String else { continue }
            bySite[site] = (entry["findings"] as? [[String: Any]] ?? []).compactMap { item in
                guard let file = item["file"] as? String, let line = item["line"] as? Int,
                      let rule = item["rule"] as? String, let level = item["level"] as? String,
                      let message = item["message"] as? String
                else { return nil }
                return SourceFinding(file: file, line: line, column: item["column"] as? Int ?? 1, rule: rule,
                                     level: level, message: message)
            }
        }
        return bySite
    }

    private static func note(_ text: String) {
        let line = "canceltrace: note: --source: " + TerminalText.escape(text, maxCharacters: 400) + "\n"
        StandardError.write(line)
    }
}

/// Reads a pipe to its end on another thread.
private final class SideReader: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }.start()
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
