import Foundation
import Testing
import TraceFormat

@Suite struct ExportCLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Samples/Traces")
    static let scenarios = ["cancel-cleanup-rethrow", "swallow-catch-all", "swallow-try-sleep", "timeout",
                            "group-sibling-failure", "shield", "convert-error", "canceller-awaits"]

    /// `Docs/Pictures/regenerate.sh` runs this same command; CANCELTRACE_UPDATE_GOLDENS=1 rewrites the pictures.
    @Test(arguments: scenarios)
    func theCommittedPicturesAreWhatTheCommandDrawsNow(scenario: String) throws {
        let trace = Self.fixtures.appendingPathComponent("\(scenario).ctrace").path
        let picture = Self.root.appendingPathComponent("Docs/Pictures/\(scenario).svg")
        let output = Fixtures.folder.appendingPathComponent("\(scenario).svg")
        let result = try CLIRunner.run(["timeline", trace, "--format", "svg", "--quiet", "-o", output.path])
        #expect(result.status == 0, "\(result.stderr)")
        let drawn = try Data(contentsOf: output)
        if ProcessInfo.processInfo.environment["CANCELTRACE_UPDATE_GOLDENS"] == "1" { try drawn.write(to: picture) }
        let committed = try Data(contentsOf: picture)
        #expect(drawn == committed, "Docs/Pictures/\(scenario).svg is out of date: run bash Docs/Pictures/regenerate.sh and read the diff")
    }

    @Test(arguments: scenarios)
    func everyFormatWorksOnEveryScenario(scenario: String) throws {
        let trace = Self.fixtures.appendingPathComponent("\(scenario).ctrace").path
        let html = try CLIRunner.run(["timeline", trace, "--format", "html"])
        #expect(html.status == 0)
        #expect(html.stdout.hasPrefix("<!DOCTYPE html>"))
        let svg = try CLIRunner.run(["timeline", trace, "--format", "svg"])
        #expect(svg.stdout.hasPrefix("<svg "))
        let expectsError = scenario == "swallow-catch-all"
        for format in ["json", "sarif"] {
            let check = try CLIRunner.run(["check", trace, "--format", format])
            #expect(check.status == (expectsError ? 1 : 0), "\(format)")
            #expect((try? JSONSerialization.jsonObject(with: Data(check.stdout.utf8))) != nil, "\(format) parses")
        }
        let perfetto = Fixtures.folder.appendingPathComponent("\(scenario).json.gz")
        let export = try CLIRunner.run(["export", trace, "--format", "perfetto", "-o", perfetto.path])
        #expect(export.status == 0)
        #expect(export.stderr.hasPrefix("wrote "))
        #expect(Array(try Data(contentsOf: perfetto).prefix(2)) == [0x1F, 0x8B])
        let plain = try CLIRunner.run(["export", trace, "-o", "-", "--quiet"])
        #expect(plain.stderr.isEmpty)
    }

    @Test func exportWritesPlainJSONWhenAskedAndFailsCleanlyOnABadPath() throws {
        let trace = try Fixtures.write("export.ctrace", Fixtures.trace())
        let json = Fixtures.folder.appendingPathComponent("export.json")
        let result = try CLIRunner.run(["export", trace, "-o", json.path, "--quiet"])
        #expect(result.status == 0)
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any]
        #expect((document?["traceEvents"] as? [Any])?.isEmpty == false)
        let bad = try CLIRunner.run(["export", trace, "-o", "/nonexistent/dir/out.json.gz"])
        #expect(bad.status == 2)
        #expect(bad.stderr.hasPrefix("canceltrace: error: /nonexistent/dir/out.json.gz: cannot write"))
        #expect(bad.stderr.split(separator: "\n").count == 1)
    }

    @Test func htmlEscapesAHostileTaskName() throws {
        let trace = try Fixtures.write("hostile-html.ctrace", Fixtures.trace(taskName: "<script>alert(1)</script>"))
        let output = Fixtures.folder.appendingPathComponent("hostile.html")
        let result = try CLIRunner.run(["timeline", trace, "--format", "html", "-o", output.path])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        let html = try String(contentsOf: output, encoding: .utf8)
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<script>alert"))
    }

    @Test func sarifCarriesTheConfiguredLevel() throws {
        let trace = try Fixtures.write("sarif.ctrace", Fixtures.trace())
        let result = try CLIRunner.run(["check", trace, "--format", "sarif", "--level", "swallowed-cancellation=warning"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("\"level\" : \"warning\""))
        #expect(result.stdout.contains("\"version\" : \"2.1.0\""))
    }

    @Test func noProgressBarWhenStderrIsNotATerminal() throws {
        let trace = try Fixtures.write("progress.ctrace", Fixtures.trace())
        let result = try CLIRunner.run(["stats", trace])
        #expect(!result.stderr.contains("reading"))
        #expect(try CLIRunner.run(["stats", trace, "--quiet"]).status == 0)
    }
}
