#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TraceAnalysis
import TraceFormat

/// A finding's text for the JSON outputs (`check --format json|sarif`), with a bounded size: the names it quotes
/// — task, canceller, cancel message, each up to 64 KiB in a trace — are cut to `nameLimit` characters in its
/// message, notes and help, and the task's full name is given in `taskName` only the first time that name appears
/// in an output, and only while the full names written stay under `fullNameBudget` bytes. So an output is at
/// most about 3 KB per finding plus 16 MiB, whatever the names (Docs/Reliability.md, "Output size").
struct BoundedFinding {
    static let nameLimit = 200
    static let fullNameBudget = 16 << 20

    var message: String
    var notes: [String]
    var help: String
    var taskName: String
    var byName: String?
    var cancelMessage: String?
    /// Where the task was created, cut like a name (recorded from the app, so up to 64 KiB).
    var site: String

    /// Names already given in full, and their bytes, for one output.
    struct Budget {
        var given = Set<String>()
        var bytes = 0
    }

    init(_ finding: Finding, budget: inout Budget) {
        message = finding.message
        notes = finding.notes
        help = finding.help
        byName = finding.cancel?.byName.map(Self.cut)
        cancelMessage = finding.cancel.map { Self.cut($0.message) }
        site = Self.cut(finding.site)
        for long in [finding.taskName, finding.cancel?.byName ?? "", finding.cancel?.message ?? ""]
        where long.utf8.count > Self.nameLimit {
            let short = Self.cut(long)
            message = Self.replace(long, with: short, in: message)
            notes = notes.map { Self.replace(long, with: short, in: $0) }
            help = Self.replace(long, with: short, in: help)
        }
        // Whatever else a note quotes (say, another task's name) is cut at the same bound, as a whole line.
        notes = notes.map { Self.cut($0, limit: 4 * Self.nameLimit) }
        message = Self.cut(message, limit: 4 * Self.nameLimit)
        let name = finding.taskName
        if name.utf8.count <= Self.nameLimit {
            taskName = name
        } else if !budget.given.contains(name) && budget.bytes + name.utf8.count <= Self.fullNameBudget {
            budget.given.insert(name)
            budget.bytes += name.utf8.count
            taskName = name
        } else {
            taskName = Self.cut(name)
        }
    }

    /// `text` with every `pattern` replaced, compared as bytes with `memcmp` (the generic `replacing` compares
    /// characters, and took seconds per finding on 64 KiB names).
    static func replace(_ pattern: String, with replacement: String, in text: String) -> String {
        let bytes = Array(text.utf8), needle = Array(pattern.utf8)
        guard !needle.isEmpty, bytes.count >= needle.count else { return text }
        var out: [UInt8] = []
        var start = 0
        bytes.withUnsafeBytes { haystack in
            needle.withUnsafeBytes { needle in
                var i = 0
                while i + needle.count <= haystack.count {
                    if haystack[i] == needle[0], memcmp(haystack.baseAddress! + i, needle.baseAddress!, needle.count) == 0 {
                        out += haystack[start..<i]
                        out += replacement.utf8
                        i += needle.count
                        start = i
                    } else {
                        i += 1
                    }
                }
            }
        }
        if start == 0 { return text }
        out += bytes[start...]
        return String(decoding: out, as: UTF8.self)
    }

    /// `text` cut to `limit` characters, with `…` when cut.
    static func cut(_ text: String) -> String { cut(text, limit: nameLimit) }

    static func cut(_ text: String, limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        let kept = text.prefix(limit)
        return kept.endIndex == text.endIndex ? text : String(kept) + "…"
    }
}
