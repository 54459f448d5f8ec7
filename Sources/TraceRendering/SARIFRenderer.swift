import Foundation
import TraceAnalysis
import TraceFormat

/// `check --format sarif`: findings as SARIF 2.1.0, for code-scanning UIs.
///
/// One run; the driver lists every rule (id, descriptions, help, configured level, threshold); one result per
/// finding, located at the trace file with the task as a logical location, and carrying the task, its name, the
/// times and the cancel request in `properties`. Validated against the OASIS schema in the tests.
public struct SARIFRenderer: Sendable {
    public var configuration: RuleConfiguration
    public var toolVersion: String

    public init(configuration: RuleConfiguration = RuleConfiguration(), toolVersion: String) {
        self.configuration = configuration
        self.toolVersion = toolVersion
    }

    public func render(_ report: AnalysisReport, file: String) -> String {
        let rules = Rules.all
        let ruleIndex = Dictionary(uniqueKeysWithValues: rules.enumerated().map { ($0.element.id, $0.offset) })
        let uri = file.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? file
        let descriptors: [[String: Any]] = rules.map { rule in
            var properties: [String: Any] = ["enabled": configuration.isEnabled(rule)]
            if rule.defaultThreshold != nil {
                properties["thresholdNs"] = configuration.threshold(for: rule)
                properties["threshold"] = TraceTime.duration(configuration.threshold(for: rule))
            }
            return [
                "id": rule.id,
                "name": Self.pascalCase(rule.id),
                "shortDescription": ["text": rule.summary],
                "fullDescription": ["text": rule.explanation],
                "help": ["text": rule.help],
                "defaultConfiguration": ["level": Self.level(configuration.level(for: rule)),
                                         "enabled": configuration.isEnabled(rule)],
                "properties": properties,
            ]
        }
        var budget = BoundedFinding.Budget()
        let results: [[String: Any]] = report.findings.map { finding in
            let text = BoundedFinding(finding, budget: &budget)
            let shortName = BoundedFinding.cut(finding.taskName)
            var properties: [String: Any] = [
                "task": finding.task,
                "taskName": text.taskName,
                "timeNs": finding.time,
                "time": TraceTime.seconds(finding.time),
                "notes": text.notes,
                "help": text.help,
            ]
            if let cancel = finding.cancel {
                var cancelProperties: [String: Any] = [
                    "timeNs": cancel.time, "time": TraceTime.seconds(cancel.time), "by": cancel.by,
                    "reason": cancel.reason.label, "message": text.cancelMessage ?? "",
                ]
                if let byName = text.byName { cancelProperties["byName"] = byName }
                properties["cancel"] = cancelProperties
            }
            var result: [String: Any] = [
                "ruleId": finding.rule,
                "level": Self.level(finding.level),
                "message": ["text": ([text.message] + text.notes + ["help: " + text.help]).joined(separator: "\n")],
                "locations": [[
                    "physicalLocation": ["artifactLocation": ["uri": uri, "index": 0]],
                    "logicalLocations": [[
                        "name": finding.taskName.isEmpty ? "#\(finding.task)" : shortName,
                        "fullyQualifiedName": "task #\(finding.task)",
                        "kind": "object",
                    ]],
                ]],
                "partialFingerprints": ["canceltrace/task-rule": "\(finding.rule):\(finding.task):\(shortName)"],
                "properties": properties,
            ]
            if let index = ruleIndex[finding.rule] { result["ruleIndex"] = index }
            return result
        }
        let notifications: [[String: Any]] = report.notices.map { notice in
            ["level": notice.isDamage ? "error" : "note", "message": ["text": notice.description]]
        }
        var invocation: [String: Any] = ["executionSuccessful": !report.damaged]
        if !notifications.isEmpty { invocation["toolExecutionNotifications"] = notifications }
        let document: [String: Any] = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": [
                    "name": "canceltrace",
                    "semanticVersion": toolVersion,
                    "version": toolVersion,
                    "rules": descriptors,
                ]],
                "artifacts": [["location": ["uri": uri], "roles": ["analysisTarget"]]],
                "invocations": [invocation],
                "results": results,
                "properties": [
                    "truncated": report.cutShort,
                    "damaged": report.damaged,
                    "droppedEvents": report.stats.droppedEvents,
                    "elidedFindings": report.elidedFindings,
                ],
            ]],
        ]
        // JSONSerialization escapes every control character, so recorded names stay valid JSON.
        let data = (try? JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        return JSONText.escapingLineSeparators(String(decoding: data, as: UTF8.self))
    }

    static func level(_ level: Level) -> String {
        switch level {
        case .error: "error"
        case .warning: "warning"
        case .note: "note"
        }
    }

    /// `swallowed-cancellation` → `SwallowedCancellation`, the SARIF convention for rule names.
    static func pascalCase(_ id: String) -> String {
        id.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }
}
