import TraceFormat

/// The findings whose text a timeline picture shows, chosen while the trace streams
/// (`TraceAnalyzer.textOfFirstFindings`): the first `first` in the report's order (time, task, rule, then as found)
/// and every one about a task whose lifecycle the analysis keeps (the tasks drawn alone, with their badges). Of
/// the others only a sort key is kept, so each kept finding still knows its number among all of them.
///
/// Exists for memory: a million-task trace has tens of thousands of findings, ~600 bytes each with their text.
struct FindingSelection: Sendable {
    private struct Key: Comparable, Sendable {
        var time: UInt64
        var task: TaskID
        var rule: String
        /// Order found: ties keep it, as `TraceAnalyzer.sortByTime` does.
        var sequence: Int

        static func < (a: Key, b: Key) -> Bool {
            if a.time != b.time { return a.time < b.time }
            if a.task != b.task { return a.task < b.task }
            if a.rule != b.rule { return a.rule < b.rule }
            return a.sequence < b.sequence
        }
    }

    let first: Int
    private var keys: [Key] = []
    /// Holds the smallest `first` keys seen so far (of findings not about kept tasks), and some larger ones:
    /// trimmed back to `first` whenever it reaches twice that.
    private var candidates: [(key: Key, finding: Finding)] = []
    /// After a trim, the largest candidate: a larger key can no longer be among the first.
    private var largestCandidate: Key?
    private var aboutKeptTasks: [(sequence: Int, finding: Finding)] = []

    init(first: Int) { self.first = max(first, 0) }

    mutating func add(_ finding: Finding, aboutKeptTask: Bool) {
        let key = Key(time: finding.time, task: finding.task, rule: finding.rule, sequence: keys.count)
        keys.append(key)
        if aboutKeptTask { return aboutKeptTasks.append((key.sequence, finding)) }
        guard first > 0, largestCandidate.map({ key < $0 }) ?? true else { return }
        candidates.append((key, finding))
        if candidates.count >= 2 * first {
            candidates.sort { $0.key < $1.key }
            candidates.removeLast(candidates.count - first)
            largestCandidate = candidates.last?.key
        }
    }

    /// The kept findings in the report's order, and each one's position among all the findings added.
    func finished() -> (findings: [Finding], numbers: [Int]) {
        var order = Array(keys.indices)
        order.sort { keys[$0] < keys[$1] }
        var rank = [Int32](repeating: 0, count: keys.count)
        for (position, sequence) in order.enumerated() { rank[sequence] = Int32(position) }
        var kept: [(number: Int, finding: Finding)] = aboutKeptTasks.map { (Int(rank[$0.sequence]), $0.finding) }
        for candidate in candidates where rank[candidate.key.sequence] < first {
            kept.append((Int(rank[candidate.key.sequence]), candidate.finding))
        }
        kept.sort { $0.number < $1.number }
        return (kept.map(\.finding), kept.map(\.number))
    }
}

extension AnalysisReport {
    /// Findings kept, with their text or only as levels; with `elidedFindings`, all that were found.
    public var keptFindingCount: Int { findingLevels.isEmpty ? findings.count : findingLevels.count }

    /// The position of `findings[index]` among all the kept findings in order (`keptFindingCount`): its index, or
    /// its `findingNumbers` entry when only some kept their text.
    public func findingNumber(at index: Int) -> Int { findingNumbers.isEmpty ? index : findingNumbers[index] }

    /// Adds the findings with text that `other`, a second analysis of the same trace with the same rules (also with
    /// `textOfFirstFindings`), kept and this report did not; their numbers agree because both saw every finding.
    public mutating func addFindingText(from other: AnalysisReport) {
        guard !other.findings.isEmpty else { return }
        var merged: [(number: Int, finding: Finding)] = []
        var numbers = Set<Int>()
        for index in findings.indices where numbers.insert(findingNumber(at: index)).inserted {
            merged.append((findingNumber(at: index), findings[index]))
        }
        for index in other.findings.indices where numbers.insert(other.findingNumber(at: index)).inserted {
            merged.append((other.findingNumber(at: index), other.findings[index]))
        }
        merged.sort { $0.number < $1.number }
        findings = merged.map(\.finding)
        findingNumbers = merged.map(\.number)
    }
}
