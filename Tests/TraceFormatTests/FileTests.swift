import Foundation
import Testing
@testable import TraceFormat

@Suite struct FileTests {
    @Test func aFileWrittenChunkByChunkReadsBackFromDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ct-\(UUID()).ctrace").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var builder = try TraceBuilder(sink: TraceFileWriter(path: path), chunkSize: 1 << 10)
        var written: [TraceEvent] = []
        for i in 0..<50_000 as Range<UInt64> {
            let event = TraceEvent.spawn(time: i * 10, task: i + 1, parent: i / 2, name: builder.string("t\(i % 7)"), how: .child)
            try builder.append(event)
            written.append(event)
        }
        try builder.close(time: 1_000_000)
        builder.sink.close()
        let reader = try TraceReader(path: path)
        var count = 0
        while let event = try reader.next() {
            if event.kind == .spawn { #expect(event == written[count]); count += 1 }
        }
        #expect(count == written.count)
        #expect(reader.notices.isEmpty)
        #expect(reader.bytesConsumed == (try FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).uint64Value)
    }

    @Test func aMissingFileOrADirectoryIsACannotOpenError() {
        #expect(throws: TraceReadError.cannotOpen(reason: "No such file or directory")) { try TraceReader(path: "/nonexistent/x.ctrace") }
        #expect(throws: TraceReadError.cannotOpen(reason: "is a directory")) { try TraceReader(path: "/tmp") }
    }
}
