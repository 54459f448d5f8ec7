import ArgumentParser
import Foundation
import TraceRendering

/// `canceltrace lint`: runs `canceltrace-lint`, found beside this binary, with the same arguments.
///
/// The static check lives in its own executable so that `canceltrace` never links swift-syntax: building the
/// trace tools does not wait for it, and a build without it still reads traces (Docs/Lint.md).
struct LintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lint",
        abstract: "Find swallowed cancellation in Swift source (runs canceltrace-lint).",
        discussion: """
            Everything after `lint` goes to `canceltrace-lint`, installed beside `canceltrace` (or named by \
            CANCELTRACE_LINT); `canceltrace-lint --help` lists its options. Exit status: canceltrace-lint's \
            (0 no error-level finding, 1 one is, 2 a path cannot be read, 64 bad arguments), or 127 when \
            canceltrace-lint is not found.

            Examples:
              canceltrace lint Sources
              canceltrace lint Sources --format sarif > lint.sarif
            """
    )

    @Argument(parsing: .allUnrecognized, help: "Paths and options for canceltrace-lint.")
    var arguments: [String] = []

    func run() throws {
        guard let tool = LintTool.path() else {
            StandardError.write("canceltrace: error: canceltrace-lint not found beside \(LintTool.ownDirectory()); build it with `swift build --product canceltrace-lint` or set CANCELTRACE_LINT\n")
            throw ExitCode(127)
        }
        let argv = [tool] + arguments
        var cArguments = argv.map { strdup($0) } + [nil]
        execv(tool, &cArguments)
        StandardError.write("canceltrace: error: cannot run \(TerminalText.escape(tool, maxCharacters: 300)): \(String(cString: strerror(errno)))\n")
        throw ExitCode(127)
    }
}

/// Where `canceltrace-lint` is: `$CANCELTRACE_LINT`, else beside the running `canceltrace`.
enum LintTool {
    static func path() -> String? {
        if let named = ProcessInfo.processInfo.environment["CANCELTRACE_LINT"], !named.isEmpty {
            return access(named, X_OK) == 0 ? named : nil
        }
        let candidate = ownDirectory() + "/canceltrace-lint"
        return access(candidate, X_OK) == 0 ? candidate : nil
    }

    static func ownDirectory() -> String {
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executablePath ?? CommandLine.arguments[0]
        return (executable as NSString).deletingLastPathComponent
    }
}
