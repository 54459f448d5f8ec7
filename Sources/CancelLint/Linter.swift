import Dispatch
import Foundation
import SwiftParser
import SwiftSyntax
import TraceAnalysis

/// Everything one `lint` run found, in file and line order.
public struct LintReport: Sendable {
    public var findings: [LintFinding]
    public var filesChecked: Int
    /// Files that could not be read, with the reason (they are reported, and make the run exit 2).
    public var unreadable: [String]
    /// For each spawn site asked about (`--site`), the findings its task runs into.
    public var sites: [SiteMatch] = []

    /// The most severe level among the findings.
    public var highestLevel: Level? { findings.map(\.level).max() }

    public var levelCounts: [Level: Int] {
        var counts: [Level: Int] = [:]
        for finding in findings { counts[finding.level, default: 0] += 1 }
        return counts
    }
}

/// Lints Swift files and folders: parses each file (no type-checking), runs the per-file rules, then the module
/// pass that follows awaited calls from task closures to functions that swallow cancellation.
public struct Linter: Sendable {
    public var configuration: LintConfiguration

    public init(configuration: LintConfiguration = LintConfiguration()) { self.configuration = configuration }

    /// Lints files and folders; folders are walked for `.swift` files, skipping `.build` and hidden folders.
    public func lint(paths: [String], sites: [String] = []) -> LintReport {
        var unreadable: [String] = []
        var files: [String] = []
        for path in paths {
            switch SourceFiles.collect(path) {
            case .success(let found): files.append(contentsOf: found)
            case .failure(let problem): unreadable.append(problem.description)
            }
        }
        let sources = files.map { file -> (String, String?) in
            (file, try? String(contentsOfFile: file, encoding: .utf8))
        }
        for (file, text) in sources where text == nil { unreadable.append("\(file): cannot read the file as UTF-8 text") }
        let readable = sources.compactMap { file, text in text.map { (file, $0) } }
        var report = lint(sources: readable, sites: sites)
        report.unreadable = unreadable
        return report
    }

    /// Lints in-memory sources (file name, text); the module of a file is the folder under `Sources/` or
    /// `Tests/` it is in, or else its own folder.
    public func lint(sources: [(file: String, text: String)], sites: [String] = []) -> LintReport {
        let results = ResultSlots(count: sources.count)
        DispatchQueue.concurrentPerform(iterations: sources.count) { index in
            results.set(index, analyze(file: sources[index].file, text: sources[index].text))
        }
        var analyzed = results.values
        // The module pass: what each module's own functions can throw decides the findings that depend on them.
        for indices in Dictionary(grouping: analyzed.indices, by: { analyzed[$0].module }).values {
            let facts = ModuleFacts(files: indices.map { analyzed[$0] })
            for index in indices { analyzed[index].resolve(with: facts) }
        }
        var findings = analyzed.flatMap(\.findings)
        findings.append(contentsOf: helperFindings(analyzed))
        findings.sort { ($0.file, $0.start, $0.rule) < ($1.file, $1.start, $1.rule) }
        return LintReport(findings: findings, filesChecked: sources.count, unreadable: [],
                          sites: sites.map { match($0, results: analyzed) })
    }

    /// One file's findings, plus what the module pass needs.
    struct FileResult: @unchecked Sendable {
        var file: String
        var module: String
        var findings: [LintFinding]
        /// Findings that hold unless the module declares each awaited name as unable to throw CancellationError.
        var conditional: [(finding: LintFinding, awaits: [String])] = []
        var functions: [FunctionFacts]
        var taskCalls: [(name: String, finding: LintFinding)]
        var taskClosures: [TaskClosure]
        var declarations: [(name: String, throwing: CancellationThrowing)] = []
        var valueNames: Set<String> = []

        /// Keeps the conditional findings and swallowing catches that still hold once the module is known.
        mutating func resolve(with facts: ModuleFacts) {
            findings += conditional.filter { facts.holds(awaits: $0.awaits) }.map(\.finding)
            conditional = []
            for index in functions.indices {
                functions[index].swallowsAt = functions[index].swallowCandidates
                    .first { candidate in candidate.awaits.map { facts.holds(awaits: $0) } ?? true }?.at
            }
        }
    }

    func analyze(file: String, text: String) -> FileResult {
        let module = Self.module(of: file)
        guard TextScan(text).needsParsing else {
            // Not parsed: the names it declares still count, as functions of unknown shape.
            let names = TextScan.declaredNames(text)
            return FileResult(
                file: file, module: module, findings: [],
                functions: names.functions.map { FunctionFacts(name: $0, signature: "\($0)(…)", file: file, line: 0, awaitedCalls: []) },
                taskCalls: [], taskClosures: [], declarations: names.functions.map { ($0, .can) }, valueNames: names.values)
        }
        let tree = Parser.parse(source: text)
        let analyzer = FileAnalyzer(file: file, tree: tree, configuration: configuration)
        analyzer.walk(tree)
        analyzer.markSwallowingFunctions()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let suppressions = Suppressions(lines: lines)
        let make = { (raw: RawFinding) -> LintFinding? in
            guard let level = configuration.level(for: raw.rule) else { return nil }
            let start = raw.node.startLocation(converter: analyzer.converter, afterLeadingTrivia: true)
            let end = (raw.endNode ?? raw.node).endLocation(converter: analyzer.converter, afterTrailingTrivia: false)
            guard !suppressions.silences(rule: raw.rule.id, line: start.line) else { return nil }
            let sourceLine = start.line - 1 < lines.count ? String(lines[start.line - 1]) : ""
            return LintFinding(
                file: file, start: SourcePosition(line: start.line, column: start.column),
                end: SourcePosition(line: end.line, column: end.column), rule: raw.rule.id, level: level,
                message: raw.message, notes: raw.notes, help: raw.rule.help,
                function: SyntaxFacts.enclosingFunction(raw.node), sourceLine: sourceLine)
        }
        var findings: [LintFinding] = []
        var conditional: [(finding: LintFinding, awaits: [String])] = []
        for raw in analyzer.findings {
            guard let finding = make(raw) else { continue }
            if let awaits = raw.awaits { conditional.append((finding, awaits)) } else { findings.append(finding) }
        }
        let taskCalls: [(name: String, finding: LintFinding)] = analyzer.taskCalls.compactMap { call in
            let raw = RawFinding(rule: .taskCallsSwallowingHelper, node: call.node, endNode: nil, message: "", notes: [])
            return make(raw).map { (call.name, $0) }
        }
        return FileResult(file: file, module: module, findings: findings, conditional: conditional,
                          functions: analyzer.functions, taskCalls: taskCalls, taskClosures: analyzer.taskClosures,
                          declarations: analyzer.declarations, valueNames: analyzer.valueNames)
    }

    /// `task-calls-swallowing-helper`: awaited calls in task closures to functions of the same module that swallow
    /// cancellation themselves or through functions they await (up to 3 calls down). A name matches only when the
    /// module declares one function of that name, since nothing here knows types.
    func helperFindings(_ results: [FileResult]) -> [LintFinding] {
        var findings: [LintFinding] = []
        for (_, files) in Dictionary(grouping: results, by: \.module) {
            let functions = files.flatMap(\.functions)
            let unique = Dictionary(grouping: functions, by: \.name).compactMapValues { $0.count == 1 ? $0[0] : nil }
            // name → the chain of calls down to the swallowing catch.
            var chains: [String: [String]] = [:]
            for function in unique.values { if let at = function.swallowsAt { chains[function.name] = ["`\(function.signature)` swallows at \(at)"] } }
            for _ in 0..<2 {
                for function in unique.values where chains[function.name] == nil {
                    for call in function.awaitedCalls where call.name != function.name {
                        guard let below = chains[call.name] else { continue }
                        chains[function.name] = ["`\(function.signature)` awaits `\(call.name)` at \(function.file):\(call.line)"]
                            + below
                        break
                    }
                }
            }
            for file in files {
                for call in file.taskCalls {
                    guard let chain = chains[call.name], unique[call.name] != nil else { continue }
                    var finding = call.finding
                    finding.message = "this task awaits `\(call.name)`, which swallows cancellation \(chain.count == 1 ? "in a catch" : "\(chain.count) calls down")"
                    finding.notes = chain
                    findings.append(finding)
                }
            }
        }
        return findings
    }

    static func module(of file: String) -> String {
        let parts = file.split(separator: "/", omittingEmptySubsequences: false)
        if let index = parts.lastIndex(where: { $0 == "Sources" || $0 == "Tests" }), index + 1 < parts.count - 1 {
            return parts[...(index + 1)].joined(separator: "/")
        }
        return parts.dropLast().joined(separator: "/")
    }
}

/// Per-index slots that `concurrentPerform` fills, each from one iteration only.
private final class ResultSlots: @unchecked Sendable {
    private var slots: [Linter.FileResult?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Linter.FileResult) {
        lock.lock()
        slots[index] = value
        lock.unlock()
    }

    var values: [Linter.FileResult] { slots.compactMap { $0 } }
}
