import ArgumentParser
import Foundation
import TraceAnalysis
import TraceFormat
import TraceRendering

#if canImport(Glibc)
import Glibc
#endif

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Record an unmodified, dynamically linked Swift program, then check its traces.",
        discussion: """
            Runs CMD with the CancelTrace preload library (libCancelTracePreload.so, found beside this executable, \
            in ../lib, or at $CANCELTRACE_PRELOAD_LIBRARY). Every Swift process it starts writes \
            OUTPUT/NAME.PID.ctrace; Swift build tools are not traced. Afterwards each new trace's spawn sites are \
            symbolized to file:line (function) with the toolchain's llvm-symbolizer when the program has debug \
            info, and its findings are printed as `check` does. Linux x86_64 only; elsewhere CMD runs untraced with a one-line notice. See Docs/Run.md.

            Exit status: CMD's own status when it failed (or 128 + signal number); otherwise as `check`: 0 when no \
            finding is at error level, 1 when one is, 2 when a trace cannot be read or CMD cannot be started.

            Examples:
              canceltrace run -- .build/debug/MyApp --port 8080
              canceltrace run --output traces -- .build/debug/MyPackageTests.xctest
            """
    )

    @OptionGroup var rules: RuleOptions
    @OptionGroup var display: ColorOptions

    @Flag(help: "List every finding; by default findings of one rule about tasks made at one place print once.")
    var noGroup = false

    @Option(name: [.short, .long], help: "Folder for the trace files (created if missing).")
    var output = "canceltrace-run"

    @Argument(parsing: .captureForPassthrough, help: "The command to run, after `--`.")
    var command: [String] = []

    func validate() throws {
        if command.first == "--" { return }
        // Passthrough capture would take `run --help` as the command to run.
        if command.first == "--help" || command.first == "-h" { throw CleanExit.helpRequest(Self.self) }
        if command.isEmpty { throw ValidationError("Missing the command to run: canceltrace run -- CMD [ARGS…]") }
    }

    func run() throws {
        let arguments = command.first == "--" ? Array(command.dropFirst()) : command
        guard !arguments.isEmpty else { throw ValidationError("Missing the command to run: canceltrace run -- CMD [ARGS…]") }
        var environment = ProcessInfo.processInfo.environment
        let before: Set<String>
        #if os(Linux) && arch(x86_64)
        guard let library = PreloadLibrary.locate() else {
            TraceInput.printError("cannot find libCancelTracePreload.so beside \(PreloadLibrary.executableFolder ?? "canceltrace"), in ../lib or at $CANCELTRACE_PRELOAD_LIBRARY")
            throw ExitCode(2)
        }
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw TraceInput.fail(output, "cannot create the output folder: \((error as NSError).localizedDescription)")
        }
        before = Set(Self.traces(in: output))
        let folder = URL(fileURLWithPath: output).standardizedFileURL.path
        environment["CANCELTRACE_OUTPUT"] = folder
        environment["LD_PRELOAD"] = [library, environment["LD_PRELOAD"]].compactMap { $0 }.filter { !$0.isEmpty }
            .joined(separator: ":")
        #else
        StandardError.write("canceltrace: run records on x86_64 Linux only; running \(TerminalText.escape(arguments[0], maxCharacters: 300)) untraced\n")
        before = []
        #endif
        let status = try ChildProcess.run(arguments, environment: environment)
        #if os(Linux) && arch(x86_64)
        let status2 = try report(newTraces: Self.traces(in: output).filter { !before.contains($0) })
        if status != 0 {
            StandardError.write("canceltrace: \(TerminalText.escape(arguments[0], maxCharacters: 300)) exited with status \(status)\n")
            throw ExitCode(status)
        }
        if status2 != 0 { throw ExitCode(status2) }
        #else
        if status != 0 { throw ExitCode(status) }
        #endif
    }

    /// Prints each trace's findings; returns the status `check` would (the worst over all traces).
    private func report(newTraces: [String]) throws -> Int32 {
        let configuration = try rules.configuration()
        if newTraces.isEmpty {
            try Output.printLine("canceltrace: no Swift process wrote a trace into \(output) (a statically linked or non-Swift program?)")
            return 0
        }
        var worst: Int32 = 0
        for name in newTraces.sorted() {
            let file = (output as NSString).appendingPathComponent(name)
            _ = try? SiteSymbolizer.symbolize(tracePath: file)  // a trace it cannot read is reported just below
            do {
                var configuration = configuration
                if Self.isDegraded(file) {
                    // No ends were recorded: every task would read as leaked or slow to cancel.
                    for rule in ["leaked-task", "slow-cancellation"] { configuration.levels[rule] = .some(nil) }
                    try Output.printLine("note: \(file): the Swift runtime's layout is unknown to canceltrace, so only spawns and explicit "
                          + "cancels were recorded; leaked-task and slow-cancellation are off for this trace")
                }
                let report = try TraceInput.analyze(file, configuration: configuration, keepTasks: false)
                try Output.printLine(DiagnosticsRenderer(style: display.style, grouped: !noGroup).render(report, file: file))
                try TraceInput.finish(file, report)
                if report.highestLevel == .error { worst = max(worst, 1) }
            } catch let exit as ExitCode {
                worst = max(worst, exit.rawValue)
            }
        }
        return worst
    }

    /// Whether the preload library recorded `file` in its degraded mode (`preload-mode` = `degraded`).
    private static func isDegraded(_ file: String) -> Bool {
        guard let reader = try? TraceReader(path: file) else { return false }
        while let event = try? reader.next(), event.kind == .info {}
        return reader.info["preload-mode"] == "degraded"
    }

    private static func traces(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".ctrace") }
    }
}

/// Where `canceltrace run` finds the preload library.
enum PreloadLibrary {
    static let fileName = "libCancelTracePreload.so"

    /// The folder holding this executable.
    static var executableFolder: String? {
        guard let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") else { return nil }
        return (path as NSString).deletingLastPathComponent
    }

    /// $CANCELTRACE_PRELOAD_LIBRARY, then beside the executable (a SwiftPM build folder), then ../lib (an install).
    static func locate() -> String? {
        if let explicit = ProcessInfo.processInfo.environment["CANCELTRACE_PRELOAD_LIBRARY"], !explicit.isEmpty {
            return FileManager.default.fileExists(atPath: explicit) ? explicit : nil
        }
        guard let folder = executableFolder else { return nil }
        let candidates = [
            (folder as NSString).appendingPathComponent(fileName),
            ((folder as NSString).deletingLastPathComponent as NSString).appendingPathComponent("lib/" + fileName),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }
}

/// Runs a command with inherited standard streams and returns its exit status (128 + n when killed by signal n).
enum ChildProcess {
    static func run(_ arguments: [String], environment: [String: String]) throws -> Int32 {
        var pid = pid_t()
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        let spawned = posix_spawnp(&pid, arguments[0], nil, nil, argv, envp)
        guard spawned == 0 else {
            TraceInput.printError("cannot run \(arguments[0]): \(String(cString: strerror(spawned)))")
            throw ExitCode(2)
        }
        // Ctrl-C reaches the whole foreground process group; wait for the command to handle it.
        let previousInt = signal(SIGINT, SIG_IGN)
        defer { signal(SIGINT, previousInt) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 2 }
        }
        let signalNumber = status & 0x7F
        if signalNumber != 0 { return 128 + signalNumber }
        return (status >> 8) & 0xFF
    }
}
