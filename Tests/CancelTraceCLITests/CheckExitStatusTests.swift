import Testing
import TraceFormat

/// `check` on a trace with no `close` record (the process stopped before its recorder: `os._exit`, a crash, a
/// kill): exit 3 when no finding is at error level, so a script does not take an incomplete trace for a clean one;
/// errors found anyway keep 1 (Docs/CLI.md, exit status).
@Suite struct CheckExitStatusTests {
    /// main cancels worker; worker caught it and, when `swallowed`, returned. No `close` unless `closed`.
    static func trace(swallowed: Bool, closed: Bool) throws -> [UInt8] {
        var builder = TraceBuilder(sink: InMemoryTrace(), chunkSize: 48)
        let ms: UInt64 = 1_000_000
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        try builder.append(.spawn(time: 1 * ms, task: 2, parent: 1, name: builder.string("worker"), how: .child))
        try builder.append(.cancel(time: 2 * ms, task: 2, by: 1, reason: .explicit))
        try builder.append(.caught(time: 3 * ms, task: 2, error: builder.string("CancelledError")))
        if swallowed { try builder.append(.end(time: 4 * ms, task: 2, outcome: .returned)) }
        if closed {
            try builder.append(.end(time: 5 * ms, task: 1, outcome: .returned))
            try builder.close(time: 6 * ms)
        } else {
            try builder.flush()
        }
        return builder.sink.bytes
    }

    @Test func aTraceWithoutCloseAndNoErrorExitsThree() throws {
        let path = try Fixtures.write("unclosed-\(#line).ctrace", Self.trace(swallowed: false, closed: false))
        for format in ["text", "json", "sarif"] {
            let result = try CLIRunner.run(["check", path, "--format", format, "--color", "never"])
            #expect(result.status == 3, "\(format): \(result.stdout)\(result.stderr)")
            #expect(result.stderr == "canceltrace: warning: \(path): incomplete trace: no close record (the process stopped before its recorder did), so tasks still running then were not judged; exit status 3\n")
        }
        let text = try CLIRunner.run(["check", path, "--color", "never"])
        #expect(text.stdout.contains("truncated: the trace was not closed by its recorder"))
    }

    @Test func errorsInAnUnclosedTraceKeepExitOne() throws {
        let path = try Fixtures.write("unclosed-\(#line).ctrace", Self.trace(swallowed: true, closed: false))
        let result = try CLIRunner.run(["check", path, "--color", "never"])
        #expect(result.status == 1)
        #expect(result.stderr == "")
        #expect(result.stdout.contains("error[swallowed-cancellation]: task \"worker\" (#2)"))
    }

    @Test func theSameTraceClosedExitsZero() throws {
        // Control: what makes 3 is the missing close, not the caught cancellation with no end.
        let path = try Fixtures.write("closed-\(#line).ctrace", Self.trace(swallowed: false, closed: true))
        let result = try CLIRunner.run(["check", path, "--color", "never"])
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stderr == "")
    }
}
