import Testing
@testable import CancelLint

/// `--site`: a trace's spawn location (`file:line (function)`) joined with the findings its task runs into.
@Suite struct SiteJoinTests {
    static let server = """
        final class Server {
            func start() {
                Task {
                    await self.handle()
                }
                Task {
                    try? await Task.sleep(for: .seconds(1))
                    await flush()
                }
            }

            func handle() async {
                await serve()
            }

            func serve() async {
                do {
                    try await read()
                } catch {
                    print("\\(error)")
                }
            }

            func unrelated() async {
                do { try await other() } catch { print("\\(error)") }
            }
        }
        """

    func match(_ site: String) -> SiteMatch {
        let report = Linter().lint(sources: [(file: "/src/app/Sources/App/Server.swift", text: Self.server)], sites: [site])
        return report.sites[0]
    }

    @Test func siteParsesFileLineAndFunction() throws {
        let site = try #require(SiteLocation(parsing: "/build/Sources/App/Server.swift:3 (start())"))
        #expect(site.file == "/build/Sources/App/Server.swift")
        #expect(site.line == 3)
        #expect(site.function == "start()")
        #expect(SiteLocation(parsing: "App+0x1f3a") == nil)
        #expect(SiteLocation(parsing: "Server.swift:0 (f())") == nil)
    }

    @Test func taskSiteReachesTheSwallowTwoCallsDown() {
        // A site recorded on another machine still resolves by its trailing path components.
        let found = match("/home/ci/app/Sources/App/Server.swift:3 (start())")
        #expect(found.file == "/src/app/Sources/App/Server.swift")
        #expect(found.findings.map { "\($0.start.line):\($0.rule)" } == ["19:catch-swallows-cancellation"])
    }

    @Test func taskSiteFindsTheSwallowInsideItsClosure() {
        let found = match("App/Server.swift:6 (start())")
        #expect(found.findings.map { "\($0.start.line):\($0.rule)" } == ["7:try-optional-cancellable"])
    }

    @Test func unknownFileOrUnsymbolizedSiteMatchesNothing() {
        #expect(match("Other.swift:3 (start())").file == nil)
        #expect(match("App+0x1f3a").findings.isEmpty)
    }
}
