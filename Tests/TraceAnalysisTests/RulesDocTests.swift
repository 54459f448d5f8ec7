import Foundation
import Testing
import TraceAnalysis

/// `Docs/Rules.md` is what users read; these tests keep it in step with `Rules.all`.
@Suite struct RulesDocTests {
    static let docPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Docs/Rules.md").path

    func document() throws -> String { try String(contentsOfFile: Self.docPath, encoding: .utf8) }

    /// The rows between the rules-table markers, as trimmed cells with backticks removed.
    func tableRows() throws -> [[String]] {
        let lines = try document().components(separatedBy: "\n")
        let begin = try #require(lines.firstIndex(of: "<!-- rules-table:begin -->"))
        let end = try #require(lines.firstIndex(of: "<!-- rules-table:end -->"))
        let table = lines[(begin + 1)..<end].filter { $0.hasPrefix("|") }
        #expect(table.first == "| rule | level | threshold | what |")
        return table.dropFirst(2).map { row in
            row.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast()
                .map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "") }
        }
    }

    /// A threshold the way the doc writes it: `100 ms`, `1.5 s`, `—` for none.
    static func docThreshold(_ nanoseconds: UInt64?) -> String {
        guard let nanoseconds else { return "—" }
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000) s" }
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000) ms" }
        return TraceTime.duration(nanoseconds)
    }

    @Test func theRulesTableListsExactlyTheRegisteredRules() throws {
        let expected = Rules.all.map { [$0.id, $0.defaultLevel.rawValue, Self.docThreshold($0.defaultThreshold), $0.summary] }
        #expect(try tableRows() == expected)
    }

    @Test func everyRuleHasASectionWithItsExplanationAndHelp() throws {
        let doc = try document()
        let flat = doc.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for rule in Rules.all {
            #expect(doc.contains("### `\(rule.id)` (\(rule.defaultLevel.rawValue)"), "\(rule.id)")
            let explanation = rule.explanation.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            let explained = flat.contains(explanation)
            #expect(explained, "\(rule.id): the doc's explanation differs from the rule's")
            let help = rule.help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            let helped = flat.contains("**Help:** \(help)")
            #expect(helped, "\(rule.id): the doc's help differs from the rule's")
            if let python = rule.pythonHelp {
                let pythonHelped = flat.contains("**Help (Python traces):** \(python.split(whereSeparator: \.isWhitespace).joined(separator: " "))")
                #expect(pythonHelped, "\(rule.id): the doc's Python help differs from the rule's")
            }
        }
    }
}
