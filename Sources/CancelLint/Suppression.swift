/// The in-source suppression comment: `// canceltrace:ignore` (every rule) or
/// `// canceltrace:ignore rule-id, other-id`, optionally followed by ` -- reason`. It applies to findings that
/// start on its own line or on the line just below it.
struct Suppressions {
    static let marker = "canceltrace:ignore"

    /// Line number → rule ids it silences (empty: every rule).
    private var byLine: [Int: Set<String>] = [:]

    init(lines: [Substring]) {
        for (index, line) in lines.enumerated() {
            guard let comment = line.range(of: "//"), let marker = line.range(of: Self.marker, range: comment.upperBound..<line.endIndex)
            else { continue }
            // Rule ids follow the marker until anything that is not an id: ` -- reason`, another comment.
            let words = line[marker.upperBound...].split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
            let ids = words.prefix { word in word.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" } && word.first != "-" }
            byLine[index + 1] = Set(ids.map(String.init))
        }
    }

    func silences(rule: String, line: Int) -> Bool {
        for candidate in [line, line - 1] {
            if let ids = byLine[candidate], ids.isEmpty || ids.contains(rule) { return true }
        }
        return false
    }
}
