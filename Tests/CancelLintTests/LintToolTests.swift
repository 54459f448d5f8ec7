import Foundation
import Testing

/// The `canceltrace-lint` executable's exit statuses, as Docs/Lint.md gives them.
@Suite struct LintToolTests {
    static let binary: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ].map { $0.appendingPathComponent("canceltrace-lint") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()

    func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    func fixture(_ path: String) -> String { Fixtures.folder.appendingPathComponent(path).path }

    @Test func exitStatusFollowsTheHighestLevel() throws {
        #expect(try run([fixture("try-optional-cancellable/positive.swift"), "--color", "never"]).status == 1)
        #expect(try run([fixture("catch-swallows-cancellation/positive.swift"), "--color", "never"]).status == 0)
        #expect(try run([fixture("legitimate/shapes.swift")]).stdout.hasPrefix("no findings in 1 file"))
        let raised = try run([fixture("catch-swallows-cancellation/positive.swift"), "--level", "catch-swallows-cancellation=error"])
        #expect(raised.status == 1)
    }

    @Test func unreadablePathIsOneLineOnStderrAndStatus2() throws {
        let result = try run(["/nonexistent/folder", fixture("legitimate/shapes.swift")])
        #expect(result.status == 2)
        #expect(result.stderr == "canceltrace lint: error: /nonexistent/folder: no such file or folder\n")
    }

    @Test func badArgumentsAreStatus64() throws {
        #expect(try run(["--level", "no-such-rule=error", "x.swift"]).status == 64)
        #expect(try run(["--level", "catch-swallows-cancellation=loud", "x.swift"]).status == 64)
    }

    @Test func siteOptionAddsTheJoinToJSON() throws {
        let file = fixture("task-calls-swallowing-helper/positive.swift")
        let result = try run([file, "--format", "json", "--site", "task-calls-swallowing-helper/positive.swift:4 (start())"])
        let document = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let sites = try #require(document["sites"] as? [[String: Any]])
        #expect(sites.count == 1)
        let findings = try #require(sites[0]["findings"] as? [[String: Any]])
        #expect(findings.map { $0["rule"] as? String } == ["catch-swallows-cancellation"])
        #expect(findings.map { $0["line"] as? Int } == [15])
    }
}
