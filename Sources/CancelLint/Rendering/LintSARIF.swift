import Foundation
import TraceAnalysis

/// `lint --format sarif`: SARIF 2.1.0 with a region per result, so code-scanning UIs annotate the line.
public struct LintSARIF: Sendable {
    public var configuration: LintConfiguration
    public var toolVersion: String

    public init(configuration: LintConfiguration, toolVersion: String) {
        self.configuration = configuration
        self.toolVersion = toolVersion
    }

    public func render(_ report: LintReport) -> String {
        let ruleIndex = Dictionary(uniqueKeysWithValues: LintRule.all.enumerated().map { ($0.element.id, $0.offset) })
        let descriptors: [[String: Any]] = LintRule.all.map { rule in
            let level = configuration.level(for: rule)
            return [
                "id": rule.id,
                "name": rule.id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(),
                "shortDescription": ["text": rule.summary],
                "help": ["text": rule.help],
                "helpUri": "Docs/Lint.md#\(rule.id)",
                "defaultConfiguration": ["level": level?.rawValue ?? "none", "enabled": level != nil],
            ]
        }
        let results: [[String: Any]] = report.findings.map { finding in
            var region: [String: Any] = [
                "startLine": finding.start.line, "startColumn": finding.start.column,
                "endLine": finding.end.line, "endColumn": finding.end.column,
            ]
            if !finding.sourceLine.isEmpty { region["snippet"] = ["text": finding.sourceLine] }
            var result: [String: Any] = [
                "ruleId": finding.rule,
                "level": finding.level.rawValue,
                "message": ["text": ([finding.message] + finding.notes + ["help: " + finding.help]).joined(separator: "\n")],
                "locations": [[
                    "physicalLocation": [
                        "artifactLocation": ["uri": Self.uri(finding.file)],
                        "region": region,
                    ],
                    "logicalLocations": [["name": finding.function, "kind": "function"]],
                ]],
                "partialFingerprints": ["canceltrace/lint": "\(finding.rule):\(finding.function):\(finding.sourceLine.trimmingCharacters(in: .whitespaces))"],
            ]
            if let index = ruleIndex[finding.rule] { result["ruleIndex"] = index }
            return result
        }
        let notifications: [[String: Any]] = report.unreadable.map { ["level": "error", "message": ["text": $0]] }
        var invocation: [String: Any] = ["executionSuccessful": report.unreadable.isEmpty]
        if !notifications.isEmpty { invocation["toolExecutionNotifications"] = notifications }
        let document: [String: Any] = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": ["name": "canceltrace-lint", "version": toolVersion, "semanticVersion": toolVersion,
                                    "rules": descriptors]],
                "invocations": [invocation],
                "results": results,
            ]],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// A relative path stays relative (SARIF resolves it against the run's root); characters are percent-encoded.
    static func uri(_ file: String) -> String {
        let trimmed = file.hasPrefix("./") ? String(file.dropFirst(2)) : file
        return trimmed.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? trimmed
    }
}
