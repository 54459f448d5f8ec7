#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing

/// Docs/Instrumenting.md shows code that compiles: each `<!-- snippet: file name -->` block must be the region
/// between `// snippet: name` and `// end-snippet` in that file, verbatim once de-indented.
@Suite struct InstrumentingDocTests {
    static let root: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/TraceRecorderTests/InstrumentingDocTests.swift
        return parts.joined(separator: "/")
    }()

    @Test func everySnippetInTheGuideMatchesCompiledCode() throws {
        let guide = try readText(Self.root + "/Docs/Instrumenting.md")
        let lines = guide.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var checked = 0
        for (index, line) in lines.enumerated() where line.hasPrefix("<!-- snippet: ") {
            let words = line.dropFirst("<!-- snippet: ".count).split(separator: " ")
            let file = String(words[0])
            let name = String(words[1])
            #expect(lines[index + 1] == "```swift")
            let block = lines[(index + 2)...].prefix { $0 != "```" }.joined(separator: "\n")
            let source = try readText(Self.root + "/" + file)
            #expect(block == region(named: name, in: source), "snippet \(name) in Docs/Instrumenting.md differs from \(file)")
            checked += 1
        }
        #expect(checked >= 10)
    }

    private func region(named name: String, in source: String) -> String? {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.firstIndex(where: { $0.trimmingSpaces == "// snippet: \(name)" }) else { return nil }
        let body = lines[(start + 1)...].prefix { $0.trimmingSpaces != "// end-snippet" }
        let indent = body.filter { !$0.trimmingSpaces.isEmpty }.map { $0.prefix { $0 == " " }.count }.min() ?? 0
        return body.map { String($0.dropFirst(min(indent, $0.count))) }.joined(separator: "\n")
    }

    private func readText(_ path: String) throws -> String {
        guard let file = fopen(path, "r") else { throw MissingFile(path: path) }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buffer, 1, buffer.count, file)
            if n == 0 { break }
            bytes.append(contentsOf: buffer[..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    struct MissingFile: Error { let path: String }
}

extension String {
    fileprivate var trimmingSpaces: Substring {
        let start = firstIndex { $0 != " " } ?? endIndex
        let end = lastIndex { $0 != " " }.map { index(after: $0) } ?? start
        return self[start..<max(start, end)]
    }
}
