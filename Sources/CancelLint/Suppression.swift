/// The in-source suppression comment, spelled as in the Python recorder (Docs/Python.md):
/// `// canceltrace: ignore` (every rule) or `// canceltrace: ignore[rule-id, other-id]`, optionally followed by a
/// reason. It applies to findings that start on its own line or on the line just below it.
struct Suppressions {
    /// Line number → rule ids it silences (empty: every rule).
    private var byLine: [Int: Set<String>] = [:]

    init(lines: [Substring]) {
        for (index, line) in lines.enumerated() {
            guard let comment = line.range(of: "//"), let ids = Self.parse(line[comment.upperBound...]) else { continue }
            byLine[index + 1] = ids
        }
    }

    /// The ids after `canceltrace: ignore` in a comment's text (empty for every rule), or nil without the marker.
    static func parse(_ comment: Substring) -> Set<String>? {
        guard let name = comment.range(of: "canceltrace:") else { return nil }
        let rest = comment[name.upperBound...].drop { $0 == " " }
        guard rest.hasPrefix("ignore") else { return nil }
        let after = rest.dropFirst("ignore".count)
        guard after.first == "[", let close = after.firstIndex(of: "]") else {
            return after.isEmpty || after.first == " " ? [] : nil
        }
        let ids = after[after.index(after: after.startIndex)..<close].split(separator: ",")
        return Set(ids.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    func silences(rule: String, line: Int) -> Bool {
        for candidate in [line, line - 1] {
            if let ids = byLine[candidate], ids.isEmpty || ids.contains(rule) { return true }
        }
        return false
    }
}
