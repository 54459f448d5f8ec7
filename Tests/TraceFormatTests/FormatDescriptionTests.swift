import Foundation
import Testing
import TraceFormat

/// `Docs/TraceFormat.json` is the format's tables as data for every other language; it must be exactly what the
/// Swift tables say. To update it after an intended change:
/// `CANCELTRACE_WRITE_FORMAT_JSON=1 swift test --filter FormatDescriptionTests`, then review the diff.
@Suite struct FormatDescriptionTests {
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Docs/TraceFormat.json")

    @Test func theCheckedInDescriptionIsWhatTheTablesSay() throws {
        if ProcessInfo.processInfo.environment["CANCELTRACE_WRITE_FORMAT_JSON"] == "1" {
            try FormatDescription.json.write(to: Self.url, atomically: true, encoding: .utf8)
        }
        let checkedIn = try String(contentsOf: Self.url, encoding: .utf8)
        #expect(checkedIn == FormatDescription.json, "Docs/TraceFormat.json is stale: see this test's comment")
    }

    @Test func theDescriptionIsValidJSONWithEveryKindAndFallback() throws {
        let object = try JSONSerialization.jsonObject(with: Data(FormatDescription.json.utf8)) as? [String: Any]
        let kinds = try #require(object?["kinds"] as? [[String: Any]])
        #expect(kinds.map { $0["code"] as? Int } == KindSpec.all.map { Int($0.kind.rawValue) })
        let end = try #require(kinds.first { $0["name"] as? String == "end" })
        let outcome = try #require((end["fields"] as? [[String: Any]])?.first { $0["name"] as? String == "outcome" })
        #expect(outcome["values"] as? [String] == ["returned", "cancelled", "failed"])
        #expect(outcome["fallback"] as? Int == 2)
    }

    @Test func everyReaderPathReadsAnUnknownValueAsItsFallback() {
        let unknown = TraceEvent(kind: .end, time: 0, fields: (1, 9, 0, 0))
        #expect(unknown.outcome == .failed)
        let endSpec = EventKind.end.spec.fields[1]
        #expect(endSpec.label(of: 9) == "failed (9)")
        let cleanup = TraceEvent(kind: .cleanupEnd, time: 0, fields: (1, 5, 0, 0))
        #expect(cleanup.cleanupResult == .threw)
        #expect(EventKind.cleanupEnd.spec.fields[1].label(of: 5) == "threw (5)")
        #expect(EventKind.spawn.spec.fields[3].label(of: 200) == "unstructured (200)")
    }
}
