import Foundation
import TraceAnalysis
import TraceFormat

/// `check --format json`: findings for machines. The shape is documented in Docs/CLI.md and Docs/Exports.md and versioned by `version`.
public enum FindingsJSON {
    struct Document: Encodable {
        let version = 1
        let file: String
        let findings: [Item]
        let counts: [String: Int]
        let elidedFindings: Int
        let notices: [String]
        let truncated: Bool
        let damaged: Bool
        let droppedEvents: UInt64
    }

    struct Item: Encodable {
        let rule: String
        let level: String
        let task: UInt64
        let taskName: String
        let timeNs: UInt64
        let message: String
        let notes: [String]
        let help: String
        let cancel: Cancel?
        /// Where the task was created; absent when the trace does not say.
        let site: String?
        /// `check --source`: the lint findings in the task's code (at most `lintLimit`); absent without it.
        let lint: [SourceFinding]?
    }

    /// The most lint findings listed under one trace finding.
    public static let lintLimit = 100

    struct Cancel: Encodable {
        let timeNs: UInt64
        let by: UInt64
        let byName: String?
        let reason: String
        let message: String
    }

    /// `lint` gives the lint findings of a finding's task (`check --source`); nil leaves the key out.
    public static func render(_ report: AnalysisReport, file: String, lint: ((Finding) -> [SourceFinding])? = nil) -> String {
        var budget = BoundedFinding.Budget()
        let document = Document(
            file: file,
            findings: report.findings.map { finding in
                let text = BoundedFinding(finding, budget: &budget)
                return Item(rule: finding.rule, level: finding.level.rawValue, task: finding.task, taskName: text.taskName,
                            timeNs: finding.time, message: text.message, notes: text.notes, help: text.help,
                            cancel: finding.cancel.map {
                                Cancel(timeNs: $0.time, by: $0.by, byName: text.byName, reason: $0.reason.label,
                                       message: text.cancelMessage ?? "")
                            },
                            site: text.site.isEmpty ? nil : text.site,
                            lint: lint.map { Array($0(finding).prefix(lintLimit)) })
            },
            counts: Dictionary(uniqueKeysWithValues: Level.allCases.map { ($0.rawValue, report.levelCounts[$0] ?? 0) }),
            elidedFindings: report.elidedFindings,
            notices: report.notices.map(\.description),
            truncated: report.cutShort,
            damaged: report.damaged,
            droppedEvents: report.stats.droppedEvents)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // JSONEncoder escapes every control character, so any recorded name stays valid JSON.
        let data = (try? encoder.encode(document)) ?? Data("{}".utf8)
        return JSONText.escapingLineSeparators(String(decoding: data, as: UTF8.self))
    }
}
