import Foundation
import Testing
import TraceFormat

/// Issue 11 items 2, 7 and 8: the recorder among processes — two on one path, a fork, a file-size limit.
/// Each runs `canceltrace-crash-child` in a mode (Tests/CrashChild/main.swift).
@Suite struct RecorderProcessTests {
    static let child = CLIRunner.binary.deletingLastPathComponent().appendingPathComponent("canceltrace-crash-child")

    static func path(_ label: String) -> String {
        Fixtures.folder.appendingPathComponent("\(label)-\(UUID().uuidString).ctrace").path
    }

    @Test func aSecondProcessRecordingToTheSamePathIsRefusedAndTheFirstTraceStaysWhole() throws {
        let path = Self.path("shared")
        let first = Process()
        first.executableURL = Self.child
        first.arguments = [path]
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        // Wait (bounded) until the first process has written its first chunks.
        let deadline = Date().addingTimeInterval(20)
        var size: UInt64 = 0
        while size < 20_000 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
        }
        let second = try CLIRunner.run(executable: Self.child, ["--try-start", path])
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(second.status == 0, "\(second.stdout)")
        #expect(second.stdout.contains("another recorder is writing it"), "\(second.stdout)")

        let reader = try TraceReader(path: path)
        var marks = 0
        while let event = try reader.next() { if event.kind == .mark { marks += 1 } }
        #expect(!reader.sawDamage, "\(reader.notices)")
        #expect(reader.info[TraceInfo.Key.pid] == String(first.processIdentifier))
        #expect(marks > 0)
    }

    @Test func aForkedChildNeverHangsAndStopsRecording() throws {
        let path = Self.path("fork")
        let result = try CLIRunner.run(executable: Self.child, ["--fork", path])
        #expect(result.status == 0, "4: the child hung; 5: the child could start a session. \(result.stderr)")
        let reader = try TraceReader(path: path)
        var labels: [String] = []
        while let event = try reader.next() { if event.kind == .mark { labels.append(reader.strings[event.label]) } }
        #expect(!reader.sawDamage && reader.sawClose, "\(reader.notices)")
        #expect(labels.count == 1001, "the parent's 1,000 marks and its mark after the fork; none from the child")
        #expect(labels.last == "parent after fork")
        #expect(!FileManager.default.fileExists(atPath: path + ".child"))
    }

    @Test func aFileSizeLimitStopsTheRecordingWithOneLineAndTheAppLives() throws {
        let path = Self.path("fsize")
        let result = try CLIRunner.run(executable: Self.child, ["--file-size-limit", path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "alive\n")
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("canceltrace: recording stopped:"), "\(result.stderr)")
        let reader = try TraceReader(path: path)
        while try reader.next() != nil {}
        #expect(reader.info[TraceInfo.Key.runtime] == "swift", "what was written still reads")
    }
}
