import Foundation
import Testing
@testable import CancelLint

/// Docs/Lint.md's rule table is the same data as `LintRule.all`.
@Suite struct LintDocTests {
    @Test func docsTableListsEveryRuleWithItsLevelAndSummary() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("Docs/Lint.md"), encoding: .utf8)
        let table = try #require(doc.components(separatedBy: "<!-- lint-rules-table:begin -->").last?
            .components(separatedBy: "<!-- lint-rules-table:end -->").first)
        let rows = table.split(separator: "\n").filter { $0.hasPrefix("| `") }.map(String.init)
        let expected = LintRule.all.map { "| `\($0.id)` | \($0.defaultLevel.rawValue) | \($0.summary) |" }
        #expect(rows == expected)
        for rule in LintRule.all { #expect(doc.contains("### `\(rule.id)`"), "no section for \(rule.id)") }
    }
}
