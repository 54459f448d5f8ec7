/// A spawn site as the recorder writes it (`site` records, Docs/TraceFormat.md): `path/File.swift:42 (run())`.
/// Unsymbolized sites (`module+0x1f3a`) have no file and do not parse.
public struct SiteLocation: Sendable, Hashable {
    public var file: String
    public var line: Int
    public var function: String?

    public init?(parsing text: String) {
        var location = Substring(text)
        var function: String?
        if let open = text.range(of: " ("), text.hasSuffix(")") {
            function = String(text[open.upperBound..<text.index(before: text.endIndex)])
            location = text[..<open.lowerBound]
        }
        guard let colon = location.lastIndex(of: ":"), let line = Int(location[location.index(after: colon)...]), line > 0
        else { return nil }
        let file = String(location[..<colon])
        guard file.hasSuffix(".swift") else { return nil }
        self.file = file
        self.line = line
        self.function = function
    }
}

/// The lint findings a task runs into: those inside the closure created at its spawn site, and inside the
/// functions of the same module it awaits, up to 3 calls down.
public struct SiteMatch: Sendable {
    public var site: String
    /// The source file the site resolved to, or nil when no linted file matches it.
    public var file: String?
    public var findings: [LintFinding]
}

extension Linter {
    /// Resolves a site against linted files: the file is the one whose path ends with the most of the site's
    /// path components (a site from another machine, or a `#fileID` `Module/File.swift`, still matches).
    func match(_ text: String, results: [FileResult]) -> SiteMatch {
        guard let site = SiteLocation(parsing: text) else { return SiteMatch(site: text, file: nil, findings: []) }
        let wanted = site.file.split(separator: "/").reversed()
        let scored = results.map { result -> (Int, FileResult) in
            let have = result.file.split(separator: "/").reversed()
            return (zip(wanted, have).prefix { $0 == $1 }.count, result)
        }
        guard let best = scored.max(by: { $0.0 < $1.0 }), best.0 > 0 else { return SiteMatch(site: text, file: nil, findings: []) }
        let file = best.1
        let inFile = { (lines: ClosedRange<Int>, result: FileResult) in result.findings.filter { lines.contains($0.start.line) } }
        // The closure spawned there: the call starts on the site's line, or else the innermost closure around it.
        let closure = file.taskClosures.first { $0.callLine == site.line || $0.lines.lowerBound == site.line }
            ?? file.taskClosures.filter { $0.lines.contains(site.line) }.min { $0.lines.count < $1.lines.count }
        var findings: [LintFinding]
        var pending: [String]
        if let closure {
            findings = inFile(closure.lines, file)
            pending = closure.awaitedCalls
        } else if let function = file.functions.filter({ $0.bodyLines.contains(site.line) }).min(by: { $0.bodyLines.count < $1.bodyLines.count }) {
            findings = inFile(function.bodyLines, file)
            pending = function.awaitedCalls.map(\.name)
        } else {
            return SiteMatch(site: text, file: file.file, findings: [])
        }
        let module = results.filter { $0.module == file.module }
        let functions = Dictionary(grouping: module.flatMap(\.functions), by: \.name).compactMapValues { $0.count == 1 ? $0[0] : nil }
        var visited: Set<String> = []
        for _ in 0..<3 {
            var next: [String] = []
            for name in pending where !visited.contains(name) {
                visited.insert(name)
                guard let function = functions[name], let owner = module.first(where: { $0.file == function.file }) else { continue }
                findings += inFile(function.bodyLines, owner)
                next += function.awaitedCalls.map(\.name)
            }
            pending = next
        }
        var seen: Set<LintFinding> = []
        findings = findings.filter { seen.insert($0).inserted && $0.rule != LintRule.taskCallsSwallowingHelper.id }
        return SiteMatch(site: text, file: file.file, findings: findings)
    }
}
