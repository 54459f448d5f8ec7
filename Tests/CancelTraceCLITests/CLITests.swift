import Foundation
import Testing
import TraceFormat
import TraceTestSupport

@Suite struct CLITests {
    @Test func helpAndVersionExitZero() throws {
        let help = try CLIRunner.run(["--help"])
        #expect(help.status == 0)
        for command in ["demo", "timeline", "check", "events", "stats", "export"] { #expect(help.stdout.contains(command)) }
        for command in ["demo", "timeline", "check", "events", "stats", "export"] {
            let sub = try CLIRunner.run([command, "--help"])
            #expect(sub.status == 0, "\(command) --help")
            #expect(sub.stdout.contains("Example"), "\(command) --help has an example")
        }
        let version = try CLIRunner.run(["--version"])
        #expect(version.status == 0)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0")
    }

    @Test(arguments: ["timeline", "check", "events", "stats", "export"])
    func aMissingFileIsOneLineAndExitTwo(command: String) throws {
        let result = try CLIRunner.run([command, "/nonexistent/app.ctrace"])
        #expect(result.status == 2)
        #expect(result.stderr == "canceltrace: error: /nonexistent/app.ctrace: cannot open: No such file or directory\n")
        #expect(result.stdout.isEmpty)
    }

    @Test func aTextFileIsNotATrace() throws {
        let path = try Fixtures.write("notes.ctrace", Array("just some notes\n".utf8))
        let result = try CLIRunner.run(["check", path])
        #expect(result.status == 2)
        #expect(result.stderr == "canceltrace: error: \(path): not a trace: this looks like a text file (expected the bytes \\x89CTRACE\\n at byte 0)\n")
    }

    @Test func aNewerMajorVersionIsRefused() throws {
        let path = try Fixtures.write("v2.ctrace", TraceLayout.magic + [2, 0, 0, 0, 0, 0, 0, 0])
        let result = try CLIRunner.run(["stats", path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unsupported trace format version 2.0"))
    }

    @Test func checkExitsOneOnASwallowAndZeroOnCleanCode() throws {
        let swallow = try Fixtures.write("swallow.ctrace", Fixtures.trace())
        let flagged = try CLIRunner.run(["check", swallow, "--color", "never"])
        #expect(flagged.status == 1)
        #expect(flagged.stdout.contains("""
            error[swallowed-cancellation]: task "long_task" (#2) caught CancellationError at 0.051 s and returned normally at 0.053 s
              = note: cancelled at 0.050 s by task "main" (#1): explicit cancel()
              = help: rethrow
            """))
        #expect(flagged.stdout.contains("1 error in \(swallow)"))

        let clean = try Fixtures.write("clean.ctrace", Fixtures.trace(rethrowing: true))
        let passed = try CLIRunner.run(["check", clean, "--color", "never"])
        #expect(passed.status == 0)
        #expect(passed.stdout.contains("no findings in \(clean)"))
    }

    @Test func levelsAndThresholdsComeFromTheCommandLine() throws {
        let swallow = try Fixtures.write("swallow-levels.ctrace", Fixtures.trace())
        let lowered = try CLIRunner.run(["check", swallow, "--level", "swallowed-cancellation=warning"])
        #expect(lowered.status == 0)
        #expect(lowered.stdout.contains("warning[swallowed-cancellation]"))
        let off = try CLIRunner.run(["check", swallow, "--level", "swallowed-cancellation=off"])
        #expect(off.status == 0)
        #expect(off.stdout.contains("no findings"))
        let slow = try CLIRunner.run(["check", swallow, "--threshold", "slow-cancellation=1ms", "--level", "swallowed-cancellation=off"])
        #expect(slow.stdout.contains("warning[slow-cancellation]"))
        let bad = try CLIRunner.run(["check", swallow, "--threshold", "slow-cancellation=fast"])
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("expected a duration"))
        let unknown = try CLIRunner.run(["check", swallow, "--level", "no-such-rule=error"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("unknown rule no-such-rule"))
    }

    @Test func allowAcceptsOneTasksFindingsAndSaysSo() throws {
        let swallow = try Fixtures.write("swallow-allow.ctrace", Fixtures.trace())
        let allowed = try CLIRunner.run(["check", swallow, "--color", "never", "--allow", "swallowed-cancellation=long_task"])
        #expect(allowed.status == 0)
        #expect(allowed.stdout.contains("no findings in \(swallow) (1 finding allowed by --allow or an ignore mark)"))
        let otherTask = try CLIRunner.run(["check", swallow, "--allow", "main"])
        #expect(otherTask.status == 1)
        let byID = try CLIRunner.run(["check", swallow, "--allow", "#2"])
        #expect(byID.status == 0)
    }

    @Test func listRulesShowsEveryRule() throws {
        let result = try CLIRunner.run(["check", "--list-rules"])
        #expect(result.status == 0)
        for rule in ["swallowed-cancellation", "cancellation-converted", "failed-after-cancel", "completed-after-cancel", "slow-cancellation",
                     "cleanup-failed", "slow-cleanup", "leaked-task"] {
            #expect(result.stdout.contains(rule))
        }
    }

    @Test func jsonFindingsParseAndCarryTheTask() throws {
        let swallow = try Fixtures.write("swallow-json.ctrace", Fixtures.trace(taskName: "evil\u{1B}[31m\"name\n"))
        let result = try CLIRunner.run(["check", swallow, "--format", "json"])
        #expect(result.status == 1)
        let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
        let findings = json["findings"] as! [[String: Any]]
        #expect(findings.count == 1)
        #expect(findings[0]["rule"] as? String == "swallowed-cancellation")
        #expect(findings[0]["level"] as? String == "error")
        #expect(findings[0]["task"] as? Int == 2)
        #expect(findings[0]["taskName"] as? String == "evil\u{1B}[31m\"name\n")
        #expect((json["counts"] as? [String: Int])?["error"] == 1)
    }

    @Test func hostileNamesAreEscapedInTerminalOutput() throws {
        let path = try Fixtures.write("hostile-terminal.ctrace", Fixtures.trace(taskName: "x\u{1B}]0;pwned\u{07}\u{1B}[2J\ny"))
        for command in [["timeline", path, "--color", "never"], ["check", path, "--color", "never"], ["events", path, "--color", "never"]] {
            let result = try CLIRunner.run(command)
            #expect(!result.stdout.contains("\u{1B}"), "\(command[0]) printed a raw escape")
            #expect(!result.stdout.contains("\u{07}"))
            #expect(result.stdout.contains("x\\e]0;pwned\\x07\\e[2J\\ny"), "\(command[0])")
        }
    }

    @Test func timelineIsStableWithFixedWidthAndNoColour() throws {
        let path = try Fixtures.write("timeline.ctrace", Fixtures.trace())
        let first = try CLIRunner.run(["timeline", path, "--width", "100", "--color", "never"])
        let second = try CLIRunner.run(["timeline", path, "--width", "100", "--color", "never"])
        #expect(first.status == 0)
        #expect(first.stdout == second.stdout)
        #expect(first.stdout.split(separator: "\n").allSatisfy { $0.count <= 100 })
        let coloured = try CLIRunner.run(["timeline", path, "--width", "100", "--color", "always"])
        #expect(coloured.stdout.contains("\u{1B}["))
        let auto = try CLIRunner.run(["timeline", path, "--width", "100"])
        #expect(!auto.stdout.contains("\u{1B}["), "auto is off when stdout is not a terminal")
        let focused = try CLIRunner.run(["timeline", path, "--task", "nope"])
        #expect(focused.status == 2)
        #expect(focused.stderr.contains("no task with id or name \"nope\""))
    }

    @Test func aTruncatedTraceIsAnalyzedAndSaysSo() throws {
        let bytes = try Fixtures.trace()
        let path = try Fixtures.write("cut.ctrace", Array(bytes.prefix(bytes.count - 5)))
        let result = try CLIRunner.run(["stats", path, "--color", "never"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("truncated: the file ends inside the chunk at byte"))
    }

    @Test func aDamagedChunkIsReportedAfterTheOutputWithExitTwo() throws {
        var bytes = try Fixtures.trace()
        bytes[TraceLayout.headerSize + TraceLayout.chunkHeaderSize + 2] ^= 0xFF
        let path = try Fixtures.write("damaged.ctrace", bytes)
        let result = try CLIRunner.run(["check", path, "--color", "never"])
        #expect(result.status == 2)
        #expect(result.stdout.contains("damaged: corrupt chunk at byte 16: CRC mismatch"))
        #expect(result.stderr.hasPrefix("canceltrace: error: \(path): damaged trace"))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func theDamagedLineCountsEveryDamagedChunkNotOnlyTheNoticesKept() throws {
        // One event per chunk, and more chunks damaged than the reader keeps notices for.
        var builder = TraceBuilder(sink: InMemoryTrace(), chunkSize: 1)
        let main = builder.string("main")
        for task in 1...1_200 as ClosedRange<UInt64> {
            try builder.append(.spawn(time: task, task: task, parent: 0, name: main, how: .root))
            try builder.append(.end(time: task, task: task, outcome: .returned))
        }
        try builder.close(time: 2_000)
        var bytes = builder.sink.bytes
        let offsets = chunkOffsets(bytes)
        let damaged = offsets.dropFirst().dropLast().prefix(TraceReader.maxNotices + 5)
        #expect(damaged.count == TraceReader.maxNotices + 5)
        for offset in damaged { bytes[offset + TraceLayout.chunkHeaderSize] ^= 0xFF }
        let path = try Fixtures.write("much-damage.ctrace", bytes)
        let result = try CLIRunner.run(["stats", path, "--color", "never"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("damaged trace: \(TraceReader.maxNotices + 5) chunks or records skipped"))
    }

    @Test func aCancelAfterItsTaskEndedIsANoteNotALeak() throws {
        var builder = TraceBuilder(sink: InMemoryTrace(), chunkSize: 48)
        let ms: UInt64 = 1_000_000
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        try builder.append(.spawn(time: 1 * ms, task: 2, parent: 1, name: builder.string("worker"), how: .child))
        try builder.append(.end(time: 5 * ms, task: 2, outcome: .returned))
        try builder.append(.cancel(time: 6 * ms, task: 2, by: 1, reason: .shutdown))
        try builder.append(.end(time: 10 * ms, task: 1, outcome: .returned))
        try builder.close(time: 11 * ms)
        let path = try Fixtures.write("late-cancel.ctrace", builder.sink.bytes)
        let result = try CLIRunner.run(["check", path, "--color", "never"])
        #expect(result.status == 0)
        #expect(result.stdout == "note: 1 record referred to tasks that had already ended; ignored\nno findings in \(path)\n")
    }

    @Test func aLeakInADamagedTraceSaysItsEndMayHaveBeenLost() throws {
        // One event per chunk; the chunk holding worker's end is damaged.
        var builder = TraceBuilder(sink: InMemoryTrace(), chunkSize: 1)
        let ms: UInt64 = 1_000_000
        try builder.append(.spawn(time: 0, task: 1, parent: 0, name: builder.string("main"), how: .root))
        try builder.append(.spawn(time: 1 * ms, task: 2, parent: 1, name: builder.string("worker"), how: .child))
        let endChunk = builder.sink.bytes.count
        try builder.append(.end(time: 5 * ms, task: 2, outcome: .returned))
        try builder.append(.end(time: 10 * ms, task: 1, outcome: .returned))
        try builder.close(time: 11 * ms)
        var bytes = builder.sink.bytes
        bytes[endChunk + TraceLayout.chunkHeaderSize + 2] ^= 0xFF
        let path = try Fixtures.write("lost-end.ctrace", bytes)
        let result = try CLIRunner.run(["check", path, "--color", "never"])
        #expect(result.status == 2)
        #expect(result.stdout.hasPrefix("""
            warning[leaked-task]: task "worker" (#2) started at 0.001 s never ended before the trace ended at 0.011 s
              = note: the trace is damaged (1 chunk skipped), so the task's end may have been lost
              = help: await or cancel every task you start before shutting down (structured concurrency does this for you)

            damaged: corrupt chunk at byte \(endChunk): CRC mismatch; skipped it and read on
            1 warning in \(path)
            """))
    }

    @Test func eventsListsEveryEventInOrder() throws {
        let path = try Fixtures.write("events.ctrace", Fixtures.trace())
        let result = try CLIRunner.run(["events", path, "--color", "never"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 9) // 2 info, 2 spawn, cancel, caught, 2 end, close
        #expect(lines[4].contains("cancel") && lines[4].contains("#2 \"long_task\"") && lines[4].contains("by=#1 \"main\"")
                && lines[4].contains("reason=explicit"))
    }

    @Test func statsShowsOutcomesAndLatency() throws {
        let path = try Fixtures.write("stats.ctrace", Fixtures.trace(rethrowing: true))
        let result = try CLIRunner.run(["stats", path, "--color", "never"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("2: 1 returned, 1 cancelled, 0 failed, 0 never ended"))
        #expect(result.stdout.contains("p50 3.0 ms"))
    }

    @Test func demoRecordsEveryScenarioAndFindsExactlyTheBuggyOnes() throws {
        let folder = Fixtures.folder.appendingPathComponent("demo").path
        let result = try CLIRunner.run(["demo", "--output", folder, "--color", "never", "--width", "100"])
        #expect(result.status == 0, "\(result.stderr)")
        let scenarios = ["cancel-cleanup-rethrow", "swallow-catch-all", "swallow-try-sleep", "timeout",
                         "group-sibling-failure", "shield", "convert-error", "canceller-awaits"]
        for scenario in scenarios {
            #expect(FileManager.default.fileExists(atPath: "\(folder)/\(scenario).ctrace"))
            #expect(result.stdout.contains("━━ \(scenario)"))
        }
        #expect(result.stdout.components(separatedBy: "✓ as expected").count == scenarios.count + 1)
        #expect(result.stdout.contains("error[swallowed-cancellation]"))
        #expect(result.stdout.contains("warning[completed-after-cancel]"))
        #expect(result.stdout.contains("warning[cancellation-converted]"))
        let check = try CLIRunner.run(["check", "\(folder)/swallow-catch-all.ctrace"])
        #expect(check.status == 1)
    }

    @Test func demoRejectsAnUnknownScenario() throws {
        let result = try CLIRunner.run(["demo", "--scenario", "nope"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown scenario nope"))
    }
}
