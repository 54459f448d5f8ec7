import Foundation
import Testing
import TraceFormat

/// `check --source DIR`: the lint findings of a task's code printed under the trace finding about the task.
@Suite struct SourceCLITests {
    /// A source folder with a poller that swallows its cancellation with `try?` in a loop (line 4, column 13),
    /// its task created on line 2.
    private static let source: String = {
        let root = Fixtures.folder.appendingPathComponent("source-\(UUID().uuidString)")
        let folder = root.appendingPathComponent("Sources/App")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let code = """
            func start() {
                Task {
                    while true {
                        try? await Task.sleep(nanoseconds: 1_000_000)
                        print("tick")
                    }
                }
            }

            """
        try? Data(code.utf8).write(to: folder.appendingPathComponent("Poller.swift"))
        return root.path
    }()

    /// One poller created at `site`, cancelled, returning normally: a `completed-after-cancel` warning.
    private static func trace(site: String) throws -> String {
        var builder = TraceBuilder(sink: InMemoryTrace())
        let ms: UInt64 = 1_000_000
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        try builder.append(.spawn(time: ms, task: 2, parent: 1, name: builder.string("poller"), how: .unstructured))
        try builder.append(.site(time: ms, task: 2, location: builder.string(site)))
        try builder.append(.cancel(time: 10 * ms, task: 2, by: 1, reason: .explicit))
        try builder.append(.end(time: 20 * ms, task: 2, outcome: .returned))
        try builder.append(.end(time: 100 * ms, task: 1, outcome: .returned))
        try builder.close(time: 100 * ms)
        return try Fixtures.write("source-\(UUID().uuidString).ctrace", builder.sink.bytes)
    }

    @Test func lintFindingPrintedUnderTheTraceFinding() throws {
        let trace = try Self.trace(site: "Sources/App/Poller.swift:2 (start())")
        let plain = try CLIRunner.run(["check", trace, "--color", "never"])
        let result = try CLIRunner.run(["check", trace, "--source", Self.source, "--color", "never"])
        #expect(result.status == plain.status)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        let lines = result.stdout.components(separatedBy: "\n")
        let head = try #require(lines.firstIndex { $0.hasPrefix("warning[completed-after-cancel]") })
        let lint = try #require(lines.firstIndex { $0.hasPrefix("  = lint: ") })
        let help = try #require(lines.firstIndex { $0.hasPrefix("  = help: ") })
        #expect(head < lint && lint < help)
        #expect(lines[lint].contains("/Sources/App/Poller.swift:4:13: error[try-optional-cancellable]: "))
        #expect(!plain.stdout.contains("= lint:"))
    }

    @Test func siteOnAnotherLineOfAnotherFunctionGetsNoLintLine() throws {
        let trace = try Self.trace(site: "Sources/App/Other.swift:2 (other())")
        let result = try CLIRunner.run(["check", trace, "--source", Self.source, "--color", "never"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("warning[completed-after-cancel]"))
        #expect(!result.stdout.contains("= lint:"))
    }

    @Test func jsonListsTheLintFindingsPerFinding() throws {
        let trace = try Self.trace(site: "Sources/App/Poller.swift:2 (start())")
        let result = try CLIRunner.run(["check", trace, "--source", Self.source, "--format", "json"])
        #expect(result.status == 0)
        let document = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let findings = try #require(document["findings"] as? [[String: Any]])
        let lint = try #require(findings.first?["lint"] as? [[String: Any]])
        #expect(lint.count == 1)
        #expect(lint.first?["rule"] as? String == "try-optional-cancellable")
        #expect(lint.first?["line"] as? Int == 4)
        #expect(lint.first?["column"] as? Int == 13)
        #expect((lint.first?["file"] as? String)?.hasSuffix("Sources/App/Poller.swift") == true)
    }

    @Test func missingLintToolIsOneNoteAndTheUsualStatus() throws {
        let trace = try Self.trace(site: "Sources/App/Poller.swift:2 (start())")
        let plain = try CLIRunner.run(["check", trace, "--color", "never"])
        let result = try CLIRunner.run(["check", trace, "--source", Self.source, "--color", "never"],
                                       environment: ["CANCELTRACE_LINT": "/nonexistent/canceltrace-lint"])
        #expect(result.status == plain.status)
        #expect(result.stdout == plain.stdout)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.hasPrefix("canceltrace: note: --source: canceltrace-lint not found"))
    }

    @Test func brokenLintToolIsOneNoteAndTheUsualStatus() throws {
        let trace = try Self.trace(site: "Sources/App/Poller.swift:2 (start())")
        let tool = Fixtures.folder.appendingPathComponent("broken-lint-\(UUID().uuidString)")
        try Data("#!/bin/sh\necho 'boom: \\033[31m' >&2\necho 'second line' >&2\nexit 70\n".utf8).write(to: tool)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: tool.path)
        let plain = try CLIRunner.run(["check", trace, "--color", "never"])
        let result = try CLIRunner.run(["check", trace, "--source", Self.source, "--color", "never"],
                                       environment: ["CANCELTRACE_LINT": tool.path])
        #expect(result.status == plain.status)
        #expect(result.stdout == plain.stdout)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.hasPrefix("canceltrace: note: --source: canceltrace-lint failed (exit status 70: boom: "))
        #expect(!result.stderr.contains("\u{1B}"))
    }

    @Test func unreadableSourceIsOneNoteAndTheUsualStatus() throws {
        let trace = try Self.trace(site: "Sources/App/Poller.swift:2 (start())")
        let plain = try CLIRunner.run(["check", trace, "--color", "never"])
        let result = try CLIRunner.run(["check", trace, "--source", Fixtures.folder.appendingPathComponent("no-such-folder").path, "--color", "never"])
        #expect(result.status == plain.status)
        #expect(result.stdout == plain.stdout)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.hasPrefix("canceltrace: note: --source: canceltrace-lint "))
        #expect(result.stderr.contains("(exit status 2: "))
    }
}
