import Foundation
import Testing
import TraceFormat

/// A traced process killed with SIGKILL mid-run leaves a trace that reads up to its last complete chunk,
/// says it was cut short, and loses nothing before that point.
@Suite struct CrashRecoveryTests {
    @Test func aKilledProcessLeavesEveryEventBeforeItsLastCompleteChunk() throws {
        let path = Fixtures.folder.appendingPathComponent("killed-\(UUID().uuidString).ctrace").path
        let child = Process()
        child.executableURL = CLIRunner.binary.deletingLastPathComponent().appendingPathComponent("canceltrace-crash-child")
        child.arguments = [path]
        child.standardOutput = FileHandle.nullDevice
        try child.run()
        // Let it write a few chunks (64 KiB each, plus partial flushes every 10 ms); give up after 20 s.
        let deadline = Date().addingTimeInterval(20)
        var size: UInt64 = 0
        while size < 300_000 && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0
        }
        kill(child.processIdentifier, SIGKILL)
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal)
        #expect(size >= 300_000, "the child wrote \(size) bytes in 20 s")

        let reader = try TraceReader(path: path)
        var marks: [TaskID: [Int]] = [:]
        while let event = try reader.next() {
            if event.kind == .mark, let value = Int(reader.strings[event.label]) {
                marks[event.task, default: []].append(value)
            }
        }
        #expect(!reader.sawClose)
        #expect(!reader.sawDamage, "\(reader.notices)")
        #expect(reader.notices.contains { if case .truncated = $0 { true } else if case .notClosed = $0 { true } else { false } })
        #expect(marks.count == 4)
        for (task, values) in marks {
            // Each worker's marks, read back in file order, are 0, 1, 2, … with no gap: nothing before the cut is lost.
            #expect(values == Array(0..<values.count), "task #\(task) has a gap")
        }
        #expect(marks.values.map(\.count).reduce(0, +) > 10_000)
    }
}
