#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import TraceFormat

/// Issue 11 items 3, 4, 6, 15, 16: where the CLI's output goes and how it names files.
@Suite struct OutputHardeningTests {
    static func folder() throws -> URL {
        let url = Fixtures.folder.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Runs `script` with `sh -c`, `$CT` the canceltrace binary, in `folder`.
    static func shell(_ script: String, in folder: URL) throws -> CLIRunner.Result {
        try CLIRunner.run(shell: "cd '\(folder.path)' && \(script)", environment: ["CT": CLIRunner.binary.path])
    }

    @Test func outputOntoASymlinkReplacesItsTargetAndKeepsTheLink() throws {
        let dir = try Self.folder()
        let trace = try Fixtures.write("\(UUID()).ctrace", Fixtures.trace())
        let target = dir.appendingPathComponent("target.json"), link = dir.appendingPathComponent("link.json")
        try Data("old".utf8).write(to: target)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "target.json")
        let result = try CLIRunner.run(["export", trace, "-o", link.path, "-q"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == "target.json")
        let written = try Data(contentsOf: target)
        #expect(written.count > 100 && written.first == UInt8(ascii: "{"))
    }

    @Test func outputOntoAFIFOWritesThroughIt() throws {
        let dir = try Self.folder()
        let trace = try Fixtures.write("\(UUID()).ctrace", Fixtures.trace())
        let fifo = dir.appendingPathComponent("pipe.json").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // Opened for reading first (non-blocking), so the command's open for writing finds a reader; the small
        // export fits in the pipe's buffer and is read after the command exits.
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        let result = try CLIRunner.run(["export", trace, "-o", fifo, "-q"])
        #expect(result.status == 0, "\(result.stderr)")
        var status = stat()
        #expect(lstat(fifo, &status) == 0 && (status.st_mode & S_IFMT) == S_IFIFO, "the FIFO is still a FIFO")
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        let n = read(reader, &buffer, buffer.count)
        #expect(n > 100 && buffer[0] == UInt8(ascii: "{"), "the export came through the FIFO")
    }

    @Test(arguments: [["export", "-o"], ["timeline", "--format", "html", "-o"]])
    func outputEqualToTheInputIsRefused(command: [String]) throws {
        let dir = try Self.folder()
        let bytes = try Fixtures.trace()
        let trace = dir.appendingPathComponent("t.ctrace")
        try Data(bytes).write(to: trace)
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("alias").path, withDestinationPath: "t.ctrace")
        for output in [trace.path, dir.appendingPathComponent("alias").path] {
            let result = try CLIRunner.run([command[0], trace.path] + command.dropFirst() + [output])
            #expect(result.status == 2)
            #expect(result.stderr.contains("over the trace it reads"), "\(result.stderr)")
            #expect(try Data(contentsOf: trace) == Data(bytes), "the trace is untouched")
        }
    }

    /// Stdout that cannot take the output (here a file past a small `ulimit -f`, like a full disk): exit 2, one line.
    @Test(arguments: ["check", "timeline", "events", "stats", "export -o -"])
    func aFailedWriteToStdoutExitsTwoWithOneLine(command: String) throws {
        let dir = try Self.folder()
        let trace = dir.appendingPathComponent("t.ctrace")
        try Data(Fixtures.trace(taskName: String(repeating: "x", count: 4000))).write(to: trace)
        let parts = command.split(separator: " ")
        let result = try Self.shell("ulimit -f 0; \"$CT\" \(parts[0]) t.ctrace \(parts.dropFirst().joined(separator: " ")) > out.txt; echo \"status $?\" >&2", in: dir)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.last == "status 2", "\(result.stderr)")
        #expect(lines.filter { $0.contains("canceltrace: error: stdout: cannot write") }.count == 1, "\(result.stderr)")
    }

    @Test func controlCharactersInAFileNameAreEscapedInErrorLines() throws {
        let result = try CLIRunner.run(["check", "missing\nsecond line\u{1B}[31m.ctrace"])
        #expect(result.status == 2)
        #expect(result.stderr == "canceltrace: error: missing\\nsecond line\\e[31m.ctrace: cannot open: No such file or directory\n")
    }

    @Test func aFileNameThatIsNotUTF8Opens() throws {
        let dir = try Self.folder()
        try Data(Fixtures.trace()).write(to: dir.appendingPathComponent("t.ctrace"))
        let result = try Self.shell("name=$(printf 'bad\\377.ctrace'); cp t.ctrace \"$name\" && \"$CT\" stats \"$name\"", in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("events"))
    }
}
