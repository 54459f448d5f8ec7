import Foundation
import Testing

/// `canceltrace lint` hands over to `canceltrace-lint`; without it, one line and status 127.
@Suite struct LintCLITests {
    @Test func missingLintToolIsOneLineAndStatus127() throws {
        let result = try CLIRunner.run(["lint", "Sources"], environment: ["CANCELTRACE_LINT": "/nonexistent/canceltrace-lint"])
        #expect(result.status == 127)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(result.stderr.hasPrefix("canceltrace: error: canceltrace-lint not found"))
    }
}
