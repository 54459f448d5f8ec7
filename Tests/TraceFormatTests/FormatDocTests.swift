import Foundation
import Testing
@testable import TraceFormat

/// Docs/TraceFormat.md is the spec; the kind table in code is the implementation. They must not drift.
@Suite struct FormatDocTests {
    static let doc: String = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Docs/TraceFormat.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    static var kindRows: [String] {
        guard let start = doc.range(of: "<!-- kinds-table") else { return [] }
        return doc[start.upperBound...].split(separator: "\n").map(String.init)
            .drop { !$0.hasPrefix("| 0x") }.prefix { $0.hasPrefix("|") }.map { $0 }
    }

    @Test func theDocListsEveryKindWithItsCodeAndFieldsInOrder() {
        let rows = Self.kindRows
        #expect(rows.count == KindSpec.all.count)
        for (spec, row) in zip(KindSpec.all, rows) {
            let code = "0x" + (spec.kind.rawValue < 16 ? "0" : "") + String(spec.kind.rawValue, radix: 16)
            #expect(row.hasPrefix("| \(code) | `\(spec.name)` |"), "row for \(spec.name): \(row)")
            let fields = spec.fields.map { "\($0.name): \($0.type.rawValue)" }
            let columns = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let documented = columns.count > 2 ? columns[2] : ""
            if fields.isEmpty {
                #expect(documented == "—")
            } else {
                #expect(documented.hasPrefix(fields.joined(separator: ", ")), "fields of \(spec.name): \(documented)")
            }
        }
    }

    @Test func theDocListsEveryEnumerationValue() {
        for spec in KindSpec.all {
            for field in spec.fields where field.type == .enumeration {
                let values = field.values.enumerated().map { "\($0.offset) = \($0.element)" }.joined(separator: ", ")
                #expect(Self.doc.contains("| \(spec.name).\(field.name) | \(values) |"), "\(spec.name).\(field.name)")
            }
        }
    }

    @Test func theDocsExampleChunkDecodes() throws {
        // The bytes of the "An example" section.
        let payload: [UInt8] = [0x02, 0x01, 0x04, 0x6D, 0x61, 0x69, 0x6E,
                                0x10, 0xC0, 0x84, 0x3D, 0x01, 0x00, 0x01, 0x04,
                                0x16, 0x80, 0x89, 0x7A, 0x01, 0x00, 0x00,
                                0x03, 0x00]
        var trace = InMemoryTrace()
        trace.writeChunk(payload)
        let reader = try TraceReader(bytes: trace.bytes)
        var events: [TraceEvent] = []
        while let event = try reader.next() { events.append(event) }
        #expect(events == [.spawn(time: 1_000_000, task: 1, parent: 0, name: 1, how: .root),
                           .end(time: 3_000_000, task: 1, outcome: .returned), .close(time: 3_000_000)])
        #expect(reader.strings[1] == "main")
    }

    @Test func theDocStatesTheLayoutConstants() {
        #expect(Self.doc.contains("`89 43 54 52 41 43 45 0A`"))
        #expect(Self.doc.contains("`43 54 43 4B`"))
        #expect(TraceLayout.magic == [0x89, 0x43, 0x54, 0x52, 0x41, 0x43, 0x45, 0x0A])
        #expect(TraceLayout.maxStringLength == 65_535 && Self.doc.contains("65,535 bytes"))
        #expect(TraceLayout.maxStringCount == 1_048_576 && Self.doc.contains("1,048,576 strings"))
    }
}
