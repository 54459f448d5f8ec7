import Foundation
import Testing
import TraceAnalysis
import TraceRendering
@testable import CancelLint

@Suite struct LinterTests {
    static let swallow = """
        func run() async {
            do {
                try await server.run()
            } catch {
                print("\\(error)")
            }
        }
        func poll() async {
            while true {
                try? await Task.sleep(for: .seconds(1))
                refresh()
            }
        }
        """

    func lint(_ text: String, _ configuration: LintConfiguration = LintConfiguration()) -> LintReport {
        Linter(configuration: configuration).lint(sources: [(file: "Sources/App/Server.swift", text: text)])
    }

    @Test func findingCarriesLocationRegionFunctionAndSourceLine() throws {
        let finding = try #require(lint(Self.swallow).findings.first)
        #expect(finding.rule == "catch-swallows-cancellation")
        #expect(finding.start == SourcePosition(line: 4, column: 7))
        #expect(finding.end == SourcePosition(line: 4, column: 12))
        #expect(finding.function == "run()")
        #expect(finding.sourceLine == "    } catch {")
        #expect(finding.level == .warning)
    }

    @Test func levelOverridesChangeAndTurnOffRules() {
        var configuration = LintConfiguration()
        configuration.levels["catch-swallows-cancellation"] = .some(nil)
        configuration.levels["try-optional-cancellable"] = .note
        let findings = lint(Self.swallow, configuration).findings
        #expect(findings.map(\.rule) == ["try-optional-cancellable"])
        #expect(findings.map(\.level) == [.note])
    }

    @Test func configuredCancellableCallIsFlagged() {
        let text = """
            func retry() async {
                for attempt in 0..<3 {
                    try? await backoff.wait(attempt)
                    await send()
                }
            }
            """
        #expect(lint(text).findings.isEmpty)
        var configuration = LintConfiguration()
        configuration.cancellableCalls.append("backoff.wait")
        #expect(lint(text, configuration).findings.map(\.rule) == ["try-optional-cancellable"])
    }

    @Test func textOutputShowsLocationCaretNotesAndHelp() throws {
        let report = lint(Self.swallow)
        let text = LintTextRenderer(style: Style(enabled: false)).render(report)
        let expected = """
            Sources/App/Server.swift:4:7: warning[catch-swallows-cancellation]: a bare `catch` catches CancellationError and returns normally
             4 |     } catch {
               |       ^~~~~
               = note: in run()
               = note: the `try await` at line 3 can throw CancellationError when the task is cancelled
               = help: rethrow after cleanup (`throw error`), or handle `catch is CancellationError` first and rethrow it
            """
        #expect(text.hasPrefix(expected))
        #expect(text.hasSuffix("1 error, 1 warning in 1 file"))
    }

    @Test func jsonRoundTripsFindings() throws {
        let report = lint(Self.swallow)
        let parsed = try #require(LintJSON.parse(Data(LintJSON.render(report).utf8)))
        var expected = report.findings
        for index in expected.indices { expected[index].sourceLine = "" }
        #expect(parsed == expected)
        #expect(parsed.count == 2)
    }

    @Test func sarifResultsHaveRegionsAndRuleIndexes() throws {
        let report = lint(Self.swallow)
        let sarif = LintSARIF(configuration: LintConfiguration(), toolVersion: "test").render(report)
        let document = try #require(JSONSerialization.jsonObject(with: Data(sarif.utf8)) as? [String: Any])
        let run = try #require((document["runs"] as? [[String: Any]])?.first)
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == 2)
        let location = try #require((results[0]["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])
        let region = try #require(location["region"] as? [String: Any])
        #expect(region["startLine"] as? Int == 4)
        #expect(region["startColumn"] as? Int == 7)
        #expect((location["artifactLocation"] as? [String: Any])?["uri"] as? String == "Sources/App/Server.swift")
        let rules = try #require(((run["tool"] as? [String: Any])?["driver"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.map { $0["id"] as? String } == LintRule.all.map(\.id))
        #expect(results[0]["ruleIndex"] as? Int == LintRule.all.firstIndex(of: .catchSwallowsCancellation))
    }

    @Test func folderWalkSkipsBuildAndHiddenFoldersAndReportsMissingPaths() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cancellint-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        for folder in ["Sources/App", ".build/checkouts/dep", ".git/x"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for file in ["Sources/App/Server.swift", ".build/checkouts/dep/Dep.swift", ".git/x/Y.swift"] {
            try Self.swallow.write(to: root.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        let report = Linter().lint(paths: [root.path, root.appendingPathComponent("missing").path])
        #expect(report.filesChecked == 1)
        #expect(Set(report.findings.map(\.file)) == [root.path + "/Sources/App/Server.swift"])
        #expect(report.unreadable.count == 1)
        #expect(report.unreadable.first?.hasSuffix("missing: no such file or folder") == true)
    }

    @Test func helperMatchesOnlyWithinTheSameModule() {
        let helper = """
            func handle() async {
                do { try await read() } catch { print("\\(error)") }
            }
            """
        let caller = """
            func start() {
                Task { await handle() }
            }
            """
        let same = Linter().lint(sources: [("Sources/A/Helper.swift", helper), ("Sources/A/Start.swift", caller)])
        #expect(same.findings.map(\.rule).contains("task-calls-swallowing-helper"))
        let other = Linter().lint(sources: [("Sources/A/Helper.swift", helper), ("Sources/B/Start.swift", caller)])
        #expect(!other.findings.map(\.rule).contains("task-calls-swallowing-helper"))
    }

    static let catchAroundDecode = """
        func parse(_ bytes: [UInt8]) async -> Int? {
            do {
                return try await decode(bytes)
            } catch {
                return nil
            }
        }
        """

    @Test func moduleFunctionThatCannotThrowCancellationInAnotherFileSilencesTheCatch() {
        let decoder = """
            enum ParseError: Error { case empty }
            func decode(_ bytes: [UInt8]) async throws -> Int {
                guard let first = bytes.first else { throw ParseError.empty }
                return Int(first)
            }
            """
        let same = Linter().lint(sources: [("Sources/App/Decoder.swift", decoder), ("Sources/App/Parse.swift", Self.catchAroundDecode)])
        #expect(same.findings.isEmpty)
        // In another module `decode` is unknown, and awaiting it can throw CancellationError.
        let other = Linter().lint(sources: [("Sources/Lib/Decoder.swift", decoder), ("Sources/App/Parse.swift", Self.catchAroundDecode)])
        #expect(other.findings.map(\.rule) == ["catch-swallows-cancellation"])
        // A second `decode` that awaits something else under `try` makes the name unsafe.
        let overload = "func decode(from url: String) async throws -> Int { try await fetch(url) }"
        let both = Linter().lint(sources: [
            ("Sources/App/Decoder.swift", decoder), ("Sources/App/Parse.swift", Self.catchAroundDecode),
            ("Sources/App/Fetch.swift", overload),
        ])
        #expect(both.findings.map(\.rule) == ["catch-swallows-cancellation"])
    }

    @Test func namesInFilesLeftUnparsedCountAsUnknown() {
        let decoder = "func decode(_ bytes: [UInt8]) async throws -> Int { 0 }"
        // No `await`, `try?` or `async`: not parsed, but its `func decode` and `let decode` still count.
        for unparsed in ["func decode() throws -> Int { 1 }", "struct Box { let decode: ([UInt8]) throws -> Int }"] {
            #expect(!TextScan(unparsed).needsParsing)
            let report = Linter().lint(sources: [
                ("Sources/App/Decoder.swift", decoder), ("Sources/App/Parse.swift", Self.catchAroundDecode),
                ("Sources/App/Other.swift", unparsed),
            ])
            #expect(report.findings.map(\.rule) == ["catch-swallows-cancellation"], "\(unparsed)")
            #expect(report.filesChecked == 3)
        }
    }

    @Test func unparsedFileStillMakesAHelperNameAmbiguous() {
        let helper = """
            func handle() async {
                do { try await read() } catch { print("\\(error)") }
            }
            func start() {
                Task { await handle() }
            }
            """
        let alone = Linter().lint(sources: [("Sources/A/Helper.swift", helper)])
        #expect(alone.findings.map(\.rule).contains("task-calls-swallowing-helper"))
        let twice = Linter().lint(sources: [("Sources/A/Helper.swift", helper), ("Sources/A/Sync.swift", "func handle() {}")])
        #expect(!twice.findings.map(\.rule).contains("task-calls-swallowing-helper"))
    }

    @Test func textScanDecidesWhatIsParsed() {
        #expect(TextScan("x = try? f()").needsParsing)
        #expect(TextScan("// await later").needsParsing)
        #expect(TextScan("func f() async {}").needsParsing)
        #expect(!TextScan("func f() throws { try g() }").needsParsing)
        let names = TextScan.declaredNames("func alpha() {}\nstruct S { var beta: Int; let gamma = { } }\n// func delta")
        #expect(names.functions == ["alpha", "delta"])
        #expect(names.values == ["beta", "gamma"])
    }

    @Test func unparsableSourceGivesNoCrashAndNoFinding() {
        let report = lint("func broken( async { do { try await x( } catch {")
        #expect(report.filesChecked == 1)
    }
}
