import Foundation
import Testing
@testable import TraceFormat
import TraceTestSupport

/// Every input the fuzzer (Fuzz/) ever crashed on, replayed with the harness's checks, plus the seed corpus and a
/// small deterministic mutation run, so that `swift test` keeps what fuzzing found even where libFuzzer is absent.
@Suite struct FuzzRegressionTests {
    /// Every input in `Fuzz/crashers/` (as Go replays `testdata/fuzz`): what the fuzzer crashed, trapped or hung on,
    /// as the harness received it — the first byte picks the mode (see Fuzz/TraceFuzzer.swift), the rest is the
    /// input. Committing a crasher there, named after what it found, is how it becomes a test (Fuzz/README.md).
    @Test func everyCrasherNowReadsCleanly() throws {
        let crashers = try corpusFiles("crashers").filter { $0.lastPathComponent != "README.md" }
        #expect(crashers.count >= 1, "Fuzz/crashers holds the committed regressions")
        for url in crashers {
            try exercise(harnessInput: [UInt8](try Data(contentsOf: url)), name: url.lastPathComponent)
        }
    }

    @Test func everySeedInTheFuzzCorpusReadsWithTheHarnessChecks() throws {
        let seeds = try seedFiles()
        #expect(seeds.count >= 20)
        for url in seeds {
            let bytes = [UInt8](try Data(contentsOf: url))
            try exercise(harnessInput: bytes, name: url.lastPathComponent)
        }
    }

    @Test func tenThousandDeterministicMutationsOfTheSeedsKeepTheReadersPromises() throws {
        let files = try seedFiles().map { [UInt8](try Data(contentsOf: $0)) }.filter { $0.first == 0 }.map { Array($0.dropFirst()) }
        #expect(!files.isEmpty)
        var random = SplitMix64(seed: 0xC7)
        for round in 0..<10_000 {
            var bytes = files[round % files.count]
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                case 2 where bytes.count > 17: bytes.remove(at: Int.random(in: 16..<bytes.count, using: &random))
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: Int.random(in: 16...bytes.count, using: &random))
                }
            }
            // Half the rounds repair the CRCs, so that the mutations reach zlib and the record decoder.
            try exercise(harnessInput: [UInt8(round % 2)] + bytes, name: "mutation round \(round)")
        }
    }
}

/// The checks of Fuzz/TraceFuzzer.swift that need only TraceFormat: read everything; times never decrease; every
/// message is one line; notices stay bounded; a second read of the same bytes gives the same events and notices.
private func exercise(harnessInput: [UInt8], name: String) throws {
    guard let mode = harnessInput.first else { return }
    var bytes = Array(harnessInput.dropFirst())
    switch mode % 3 {
    case 0: break
    case 1: repairCRCs(&bytes)
    default: bytes = framed(payloads: split(bytes, on: [0xFF, 0xFF, 0xFF, 0xFF]))
    }
    let first: (events: [TraceEvent], notices: [ReadNotice], error: String?)
    do {
        let reader = try TraceReader(bytes: bytes)
        var events: [TraceEvent] = []
        var error: String?
        do {
            while let event = try reader.next() { events.append(event) }
        } catch let failure {
            error = "\(failure)"
        }
        first = (events, reader.notices, error)
        #expect(reader.notices.count <= TraceReader.maxNotices + 130, "\(name)")
    } catch {
        #expect(!"\(error)".isEmpty && !"\(error)".contains("\n"), "\(name)")
        return
    }
    #expect(zip(first.events, first.events.dropFirst()).allSatisfy { $0.time <= $1.time }, "\(name): time went backwards")
    for text in first.notices.map(\.description) + (first.error.map { [$0] } ?? []) {
        #expect(!text.isEmpty && !text.contains("\n"), "\(name): \(text)")
    }
    let again = try TraceReader(bytes: bytes)
    var events: [TraceEvent] = []
    while let event = try? again.next() { events.append(event) }
    #expect(events == first.events && again.notices == first.notices, "\(name): a second read differs")
}

/// Valid chunks around `payloads`, as the harness's payload mode makes them (it stores rather than compresses,
/// which inflates to the same payloads).
private func framed(payloads: [[UInt8]]) -> [UInt8] {
    var trace = InMemoryTrace(compressionLevel: 1)
    for payload in payloads where payload.count <= TraceLayout.maxChunkRawLength { trace.writeChunk(payload) }
    return trace.bytes
}

private func split(_ bytes: [UInt8], on separator: [UInt8]) -> [[UInt8]] {
    var parts: [[UInt8]] = []
    var start = 0
    var i = 0
    while i + separator.count <= bytes.count {
        if bytes[i..<i + separator.count].elementsEqual(separator) {
            parts.append(Array(bytes[start..<i]))
            i += separator.count
            start = i
        } else {
            i += 1
        }
    }
    parts.append(Array(bytes[start...]))
    return parts
}

private func seedFiles() throws -> [URL] { try corpusFiles("seeds") }

/// The files of `Fuzz/NAME`, sorted by name.
private func corpusFiles(_ name: String) throws -> [URL] {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Fuzz/\(name)").standardized
    return try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
}
