// libFuzzer harness for the trace decoder and the analysis. Built by Fuzz/build.sh; run by Fuzz/fuzz.sh.
//
// The first input byte picks how the rest is read, so that mutations reach past the CRC and zlib layers:
//   byte % 3 == 0: the rest is a trace file, as is;
//   byte % 3 == 1: the rest is a trace file whose chunk CRCs are recomputed first (mutations reach zlib);
//   byte % 3 == 2: the rest is raw record payloads separated by FF FF FF FF, each framed and compressed as a
//                  valid chunk behind a valid header (mutations reach the record decoder and the analysis).
// Every input is read to the end with TraceReader and, when it yielded events, analyzed with TraceAnalyzer. Besides crashes, traps
// and sanitizer reports, the harness checks what the reader promises: times never decrease, every message is
// one line, and the analysis sees exactly the events the reader yields.
//
// With CANCELTRACE_FUZZ_WRITE_SEEDS=DIR set, the binary writes its seed corpus to DIR and exits.

import CZlib
import TraceAnalysis
import TraceFormat

#if canImport(Glibc)
import Glibc
#endif

let payloadSeparator: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]
let analyzer = TraceAnalyzer()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let body = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let bytes: [UInt8]
    switch data[0] % 3 {
    case 0: bytes = body
    case 1: bytes = repairingCRCs(body)
    default: bytes = framing(payloads: split(body, on: payloadSeparator))
    }
    exercise(bytes)
    return 0
}

func exercise(_ bytes: [UInt8]) {
    let reader: TraceReader
    do {
        reader = try TraceReader(bytes: bytes)
    } catch {
        check(oneLine: "\(error)")
        return
    }
    var events = 0
    var lastTime: UInt64 = 0
    do {
        while let event = try reader.next() {
            precondition(event.time >= lastTime, "time went backwards: \(event.time) after \(lastTime)")
            lastTime = event.time
            events += 1
            _ = (event.task, event.spawnKind, event.cancelReason, event.outcome, event.cleanupResult, event.kind.spec.name)
        }
    } catch {
        check(oneLine: "\(error)")
    }
    for notice in reader.notices { check(oneLine: "\(notice)") }

    // Analysis of a trace without events is a constant; skipping it keeps the run fast (the analyzer allocates its
    // latency histogram, 256 KiB, per run).
    guard events > 0 else { return }
    guard let again = try? TraceReader(bytes: bytes) else { preconditionFailure("a header that read once failed the second time") }
    do {
        let report = try analyzer.analyze(again, keepTasks: true)
        precondition(report.stats.events == events, "analysis saw \(report.stats.events) events, the reader \(events)")
        for finding in report.findings {
            precondition(!finding.message.isEmpty && !finding.help.isEmpty)
            _ = finding.notes
        }
        _ = (report.stats.cancelLatency(atPercentile: 50), report.stats.cancelLatency(atPercentile: 99), report.stats.cancelLatencyMax)
    } catch {
        check(oneLine: "\(error)")
    }
}

func check(oneLine text: String) {
    precondition(!text.isEmpty && !text.utf8.contains(UInt8(ascii: "\n")), "message is not one line: \(text)")
}

func split(_ bytes: [UInt8], on separator: [UInt8]) -> [[UInt8]] {
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

/// A valid file holding `payloads` as chunks. The zlib streams use stored (uncompressed) blocks, which inflate
/// exactly like compressed ones and cost nothing to make.
func framing(payloads: [[UInt8]]) -> [UInt8] {
    var bytes = TraceLayout.header
    for payload in payloads where !payload.isEmpty && payload.count <= TraceLayout.maxChunkRawLength {
        var stream: [UInt8] = [0x78, 0x01]
        var rest = payload[...]
        repeat {
            let block = rest.prefix(65_535)
            rest = rest.dropFirst(block.count)
            let length = UInt16(block.count)
            stream += [rest.isEmpty ? 1 : 0, UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
            stream += block
        } while !rest.isEmpty
        let adler = payload.withUnsafeBufferPointer { UInt32(adler32(1, $0.baseAddress, uInt($0.count))) }
        stream += [UInt8(adler >> 24), UInt8(truncatingIfNeeded: adler >> 16), UInt8(truncatingIfNeeded: adler >> 8), UInt8(truncatingIfNeeded: adler)]
        let start = bytes.count
        bytes += TraceLayout.chunkMarker
        bytes += littleEndian(UInt32(stream.count)) + littleEndian(UInt32(payload.count)) + [0, 0, 0, 0]
        bytes += stream
        let crc = bytes.withUnsafeBufferPointer { buffer -> UInt32 in
            let base = buffer.baseAddress!
            return UInt32(CZlib.crc32(CZlib.crc32(0, base + start + 4, 8), base + start + 16, uInt(stream.count)))
        }
        bytes.replaceSubrange(start + 12..<start + 16, with: littleEndian(crc))
    }
    return bytes
}

func littleEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24)]
}

/// Recomputes the CRC of every chunk whose framing can be followed from the header on.
func repairingCRCs(_ input: [UInt8]) -> [UInt8] {
    var bytes = input
    var offset = TraceLayout.headerSize
    while offset + TraceLayout.chunkHeaderSize <= bytes.count {
        let length = Int(bytes[offset + 4]) | Int(bytes[offset + 5]) << 8 | Int(bytes[offset + 6]) << 16 | Int(bytes[offset + 7]) << 24
        let end = offset + TraceLayout.chunkHeaderSize + length
        guard end <= bytes.count else { break }
        let crc = bytes.withUnsafeBufferPointer { buffer -> UInt32 in
            let base = buffer.baseAddress!
            var crc = CZlib.crc32(0, base + offset + 4, 8)
            crc = CZlib.crc32(crc, base + offset + 16, uInt(length))
            return UInt32(crc)
        }
        for i in 0..<4 { bytes[offset + 12 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        offset = end
    }
    return bytes
}

// MARK: Seeds

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    guard let directory = getenv("CANCELTRACE_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return 0 }
    for (name, chunks) in SeedScenarios.all() {
        var trace = InMemoryTrace()
        for chunk in chunks { trace.writeChunk(chunk) }
        write([0] + trace.bytes, to: "\(directory)/\(name)-file")
        write([2] + Array(chunks.joined(separator: payloadSeparator)), to: "\(directory)/\(name)-payloads")
    }
    var newerMinor = TraceLayout.header
    newerMinor[10] = 1
    write([0] + newerMinor, to: "\(directory)/header-newer-minor")
    write([1] + TraceLayout.header, to: "\(directory)/header-only")
    _exit(0)
}

func write(_ bytes: [UInt8], to path: String) {
    guard let file = fopen(path, "wb") else { fatalError("cannot write \(path)") }
    _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    fclose(file)
}

/// Small traces covering every kind, every rule and the reader's recoveries, as lists of chunk payloads.
enum SeedScenarios {
    struct Chunks {
        var chunks: [[UInt8]] = []
        var encoder = EventEncoder(reservingCapacity: 256)
        var strings: [String: StringID] = [:]

        mutating func string(_ text: String) -> StringID {
            if let id = strings[text] { return id }
            let id = StringID(strings.count + 1)
            strings[text] = id
            encoder.appendString(id: id, utf8: text.utf8)
            return id
        }
        mutating func add(_ event: TraceEvent) { encoder.append(event) }
        mutating func cut() {
            if !encoder.bytes.isEmpty { chunks.append(encoder.bytes) }
            encoder.startChunk()
        }
        mutating func finish(close time: UInt64?) -> [[UInt8]] {
            if let time { add(.close(time: time)) }
            cut()
            return chunks
        }
    }

    static func all() -> [(String, [[UInt8]])] {
        var scenarios: [(String, [[UInt8]])] = []

        // One task cancelled and handled in each of the ways the rules know.
        for variant in ["swallowed", "rethrown", "converted", "timeout", "try-question", "cleanup-threw", "leaked"] {
            var c = Chunks()
            c.add(.info(time: 0, key: c.string("runtime"), value: c.string("swift")))
            c.add(.spawn(time: 1_000, task: 1, parent: 0, name: c.string("main"), how: .root))
            c.add(.spawn(time: 2_000, task: 2, parent: 1, name: c.string("worker"), how: .child))
            c.cut()
            let reason: CancelReason = variant == "timeout" ? .timeout : .explicit
            c.add(.cancel(time: 1_000_000, task: 2, by: 1, reason: reason, message: c.string("stop")))
            let error = c.string("CancellationError")
            switch variant {
            case "try-question":
                c.add(.end(time: 300_000_000, task: 2, outcome: .returned))
            case "leaked":
                c.add(.caught(time: 1_000_100, task: 2, error: error))
            default:
                c.add(.caught(time: 1_000_100, task: 2, error: error))
                c.add(.cleanupBegin(time: 1_000_200, task: 2))
                let threw = variant == "cleanup-threw"
                c.add(.cleanupEnd(time: threw ? 200_000_000 : 1_000_300, task: 2, result: threw ? .threw : .ok,
                                  error: threw ? c.string("IOError") : 0))
                c.cut()
                switch variant {
                case "rethrown", "cleanup-threw":
                    c.add(.rethrow(time: 200_000_100, task: 2))
                    c.add(.end(time: 200_000_200, task: 2, outcome: .cancelled, error: error))
                case "converted":
                    c.add(.end(time: 1_000_400, task: 2, outcome: .failed, error: c.string("ValueError")))
                case "timeout":
                    c.add(.uncancel(time: 1_000_350, task: 2))
                    c.add(.end(time: 1_000_400, task: 2, outcome: .failed, error: c.string("TimeoutError")))
                default:
                    c.add(.end(time: 1_000_400, task: 2, outcome: .returned))
                }
            }
            c.add(.mark(time: 400_000_000, task: 1, label: c.string("done")))
            c.add(.end(time: 400_000_100, task: 1, outcome: .returned))
            scenarios.append((variant, c.finish(close: variant == "leaked" ? nil : 400_000_200)))
        }

        // A task group: a child fails, its siblings are cancelled; the recorder dropped some events.
        do {
            var c = Chunks()
            c.add(.spawn(time: 10, task: 1, parent: 0, name: c.string("group"), how: .root))
            for child in 2...5 as ClosedRange<UInt64> {
                c.add(.spawn(time: 10 + child, task: child, parent: 1, name: c.string("child \(child)"), how: .groupChild))
            }
            c.add(.end(time: 500, task: 2, outcome: .failed, error: c.string("BoomError")))
            c.cut()
            for child in 3...5 as ClosedRange<UInt64> {
                c.add(.cancel(time: 600, task: child, by: 1, reason: .siblingFailure))
            }
            c.add(.dropped(time: 650, count: 17))
            for child in 3...5 as ClosedRange<UInt64> {
                c.add(.end(time: 700 + child, task: child, outcome: .cancelled, error: c.string("CancellationError")))
            }
            c.add(.cancel(time: 800, task: 1, by: 0, reason: .shutdown))
            c.add(.end(time: 900, task: 1, outcome: .failed, error: c.string("BoomError")))
            scenarios.append(("group", c.finish(close: 1_000)))
        }

        // A newer writer's extension records between core records.
        do {
            var c = Chunks()
            c.add(.spawn(time: 5, task: 1, parent: 0, name: c.string("main"), how: .root))
            c.encoder.appendExtension(kind: 0xA0, body: [1, 2, 3])
            c.encoder.appendExtension(kind: 0xC3, body: [])
            c.add(.end(time: 9, task: 1, outcome: .returned))
            scenarios.append(("extension", c.finish(close: 10)))
        }

        // The second chunk's times start before the first chunk's last time.
        do {
            var c = Chunks()
            c.add(.spawn(time: 5_000, task: 7, parent: 0, name: c.string("late"), how: .detached))
            c.cut()
            c.add(.end(time: 100, task: 7, outcome: .returned))
            scenarios.append(("backwards", c.finish(close: 200)))
        }

        // Extreme values: the largest ids and times.
        do {
            var c = Chunks()
            c.add(.spawn(time: 0, task: .max, parent: .max - 1, name: c.string(String(repeating: "é", count: 300)), how: .detached))
            c.add(.cancel(time: 1, task: .max, by: .max - 1, reason: .parent))
            c.add(.end(time: .max, task: .max, outcome: .cancelled))
            scenarios.append(("extremes", c.finish(close: nil)))
        }
        return scenarios
    }
}
