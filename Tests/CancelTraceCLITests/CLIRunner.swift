import Foundation
import TraceFormat

/// Runs the built `canceltrace` binary as a user would, capturing its output and exit status.
struct CLIRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static let binary: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
        ].map { $0.appendingPathComponent("canceltrace") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        try run(executable: binary, arguments, environment: environment)
    }

    /// Runs `script` with `/bin/sh -c`: for what `Process` cannot say, such as a resource limit or a file name
    /// that is not UTF-8.
    static func run(shell script: String, environment: [String: String] = [:]) throws -> Result {
        try run(executable: URL(fileURLWithPath: "/bin/sh"), ["-c", script], environment: environment)
    }

    static func run(executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NO_COLOR")
        env.removeValue(forKey: "COLUMNS")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting, so a large output cannot block the child.
        let errorReader = ErrorReader(handle: err.fileHandleForReading)
        let thread = Thread { errorReader.read() }
        thread.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errorReader.done.wait()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errorReader.data, as: UTF8.self))
    }
}

private final class ErrorReader: @unchecked Sendable {
    let handle: FileHandle
    var data = Data()
    let done = DispatchSemaphore(value: 0)
    init(handle: FileHandle) { self.handle = handle }
    func read() {
        data = handle.readDataToEndOfFile()
        done.signal()
    }
}

/// Trace files written for the CLI tests, in a fresh temporary folder.
enum Fixtures {
    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("canceltrace-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    static func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    /// main cancels `name`, which catches the cancellation and returns (a swallow) unless `rethrows`.
    static func trace(taskName name: String = "long_task", rethrowing: Bool = false) throws -> [UInt8] {
        var builder = TraceBuilder(sink: InMemoryTrace(), chunkSize: 48)
        try builder.info([(TraceInfo.Key.runtime, "swift"), (TraceInfo.Key.pid, "7")])
        let ms: UInt64 = 1_000_000
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        try builder.append(.spawn(time: 1 * ms, task: 2, parent: 1, name: builder.string(name), how: .unstructured))
        try builder.append(.cancel(time: 50 * ms, task: 2, by: 1, reason: .explicit))
        try builder.append(.caught(time: 51 * ms, task: 2, error: builder.string("CancellationError")))
        if rethrowing {
            try builder.append(.rethrow(time: 52 * ms, task: 2))
            try builder.append(.end(time: 53 * ms, task: 2, outcome: .cancelled, error: builder.string("CancellationError")))
        } else {
            try builder.append(.end(time: 53 * ms, task: 2, outcome: .returned))
        }
        try builder.append(.end(time: 60 * ms, task: 1, outcome: .returned))
        try builder.close(time: 60 * ms)
        return builder.sink.bytes
    }
}
