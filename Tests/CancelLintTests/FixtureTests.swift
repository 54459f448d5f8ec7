import Foundation
import Testing
@testable import CancelLint

/// The fixture corpus: every `.swift` file under Fixtures/ is linted on its own, and its findings must be exactly
/// the `// expect: RULE` markers on its lines. A new case is a new file; nothing else to register.
enum Fixtures {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static var files: [String] {
        let walker = FileManager.default.enumerator(atPath: folder.path)
        var found: [String] = []
        while let path = walker?.nextObject() as? String {
            if path.hasSuffix(".swift") { found.append(path) }
        }
        return found.sorted()
    }

    static func expected(in text: String) -> Set<String> {
        var expected: Set<String> = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let marker = line.range(of: "// expect: ") else { continue }
            for rule in line[marker.upperBound...].split(separator: ",") {
                expected.insert("\(index + 1):\(rule.trimmingCharacters(in: .whitespaces))")
            }
        }
        return expected
    }
}

@Suite struct FixtureTests {
    @Test(arguments: Fixtures.files)
    func findingsAreExactlyTheExpectMarkers(_ path: String) throws {
        let text = try String(contentsOf: Fixtures.folder.appendingPathComponent(path), encoding: .utf8)
        let report = Linter().lint(sources: [(file: path, text: text)])
        let found = Set(report.findings.map { "\($0.start.line):\($0.rule)" })
        let expected = Fixtures.expected(in: text)
        #expect(found == expected, "unexpected: \(found.subtracting(expected).sorted()); missing: \(expected.subtracting(found).sorted())")
    }

    @Test func everyRuleHasPositiveAndNegativeFixtures() {
        let files = Set(Fixtures.files)
        for rule in LintRule.all {
            #expect(files.contains("\(rule.id)/positive.swift"), "no positive fixture for \(rule.id)")
            #expect(files.contains("\(rule.id)/negative.swift"), "no negative fixture for \(rule.id)")
        }
    }

    @Test func negativeFixturesAreNotEmpty() throws {
        // A negative fixture that parses to nothing would pass by finding nothing.
        for path in Fixtures.files where path.hasSuffix("negative.swift") {
            let text = try String(contentsOf: Fixtures.folder.appendingPathComponent(path), encoding: .utf8)
            #expect(text.components(separatedBy: "func ").count > 2, "\(path) has fewer than two functions")
        }
    }
}
