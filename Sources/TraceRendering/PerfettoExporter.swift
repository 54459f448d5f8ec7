import TraceAnalysis
import TraceFormat

/// `export --format perfetto`: the trace as Chrome Trace Event JSON, which Perfetto UI and chrome://tracing open.
///
/// Each task is one thread-like track (`tid` = its task id, named by `thread_name` metadata and sorted by it)
/// holding one async slice (`b`/`e`, id = the task id in hex) from spawn to end, and thread-scoped instants (`i`)
/// for every cancel request, catch, cleanup begin and end, rethrow, mark and finding. A cancel request by another
/// task is also an instant on the canceller's track, and a flow (`s` → `f`) joins the two. Times are microseconds
/// since the trace started, as the format wants.
///
/// The document is written task by task as each task ends (`PerfettoStream`), not sorted by time (both viewers
/// sort on import), so exporting holds only the analysis's live tasks and its findings, not the whole trace.
public struct PerfettoExporter: Sendable {
    public init() {}

    /// The JSON document (uncompressed) for a report analyzed with `keepTasks`.
    public func json(_ report: AnalysisReport, file: String) -> [UInt8] {
        var out: [UInt8] = []
        var stream = PerfettoStream(file: file) { out += $0 }
        for task in report.tasks { stream.add(task, traceEnd: report.traceEnd) }
        stream.finish(findings: report.findings, info: report.info)
        return out
    }

    /// The JSON document, gzip-compressed (`.json.gz`).
    public func gzip(_ report: AnalysisReport, file: String) throws -> [UInt8] {
        try Gzip.compress(json(report, file: file))
    }
}

/// Writes a Perfetto export in pieces: `add` each task (as the analysis ends it), then `finish`. `sink` gets the
/// document in pieces of about 64 KiB.
public struct PerfettoStream {
    private var buffer: [UInt8] = []
    private let sink: ([UInt8]) -> Void
    private let file: String
    private static let pid = 1

    public init(file: String, sink: @escaping ([UInt8]) -> Void) {
        self.file = file
        self.sink = sink
        buffer.reserveCapacity(1 << 16 + 4096)
        buffer += Array("{\"traceEvents\":[\n".utf8)
        event(name: "process_name", ph: "M", tid: 0, args: [("name", .string("canceltrace: " + Self.lastPathComponent(file)))])
    }

    /// Writes `task`'s track: its name, its slice and its instants. A task still running ends at `traceEnd`.
    public mutating func add(_ task: TaskLifecycle, traceEnd: UInt64) {
        let tid = Self.track(task.id)
        let name = task.name.isEmpty ? "task #\(task.id)" : task.name
        let id = "0x" + String(task.id, radix: 16)
        event(name: "thread_name", ph: "M", tid: tid, args: [("name", .string("\(name) #\(task.id)"))])
        event(name: "thread_sort_index", ph: "M", tid: tid, args: [("sort_index", .uint(UInt64(tid)))])
        let begin = task.spawnTime ?? task.firstSeen
        var spawnArgs: [(String, Value)] = [("how", .string(task.how.label)), ("parent", .uint(task.parent))]
        if task.spawnTime == nil { spawnArgs.append(("spawnLost", .bool(true))) }
        spawnArgs.append(("task", .uint(task.id)))
        event(name: name, cat: "task", ph: "b", ts: begin, tid: tid, id: id, args: spawnArgs)
        var flowID = 0
        for cancel in task.cancels {
            var args: [(String, Value)] = [("by", .uint(cancel.by))]
            if let byName = cancel.byName { args.append(("byName", .string(byName))) }
            if !cancel.message.isEmpty { args.append(("message", .string(cancel.message))) }
            args += [("reason", .string(cancel.reason.label)), ("withdrawn", .bool(cancel.withdrawn))]
            event(name: "cancel requested", cat: "cancel", ph: "i", ts: cancel.time, tid: tid, s: "t", args: args)
            if cancel.by != 0, cancel.by != task.id {
                let from = Self.track(cancel.by)
                // Unique per task and request: the task's id and the request's position.
                flowID += 1
                let flow = id + "." + String(flowID)
                event(name: "cancel sent", cat: "cancel", ph: "i", ts: cancel.time, tid: from, s: "t",
                      args: [("reason", .string(cancel.reason.label)), ("target", .uint(task.id)), ("targetName", .string(task.name))])
                event(name: "cancel", cat: "cancel", ph: "s", ts: cancel.time, tid: from, id: flow)
                event(name: "cancel", cat: "cancel", ph: "f", ts: cancel.time, tid: tid, id: flow, bp: "e")
            }
        }
        for caught in task.catches {
            event(name: "caught", cat: "cancel", ph: "i", ts: caught.time, tid: tid, s: "t",
                  args: [("error", .string(caught.errorType)), ("whileCancelPending", .bool(caught.whileCancelPending))])
        }
        for cleanup in task.cleanups {
            event(name: "cleanup begin", cat: "cleanup", ph: "i", ts: cleanup.begin, tid: tid, s: "t")
            if let end = cleanup.end {
                var args: [(String, Value)] = []
                if !cleanup.errorType.isEmpty { args.append(("error", .string(cleanup.errorType))) }
                args.append(("result", .string(cleanup.result?.label ?? "ok")))
                event(name: "cleanup end", cat: "cleanup", ph: "i", ts: end, tid: tid, s: "t", args: args)
            }
        }
        for time in task.rethrowTimes { event(name: "rethrow", cat: "cancel", ph: "i", ts: time, tid: tid, s: "t") }
        for mark in task.marks {
            event(name: "mark", cat: "mark", ph: "i", ts: mark.time, tid: tid, s: "t", args: [("label", .string(mark.label))])
        }
        var endArgs: [(String, Value)] = []
        if let error = task.end?.errorType, !error.isEmpty { endArgs.append(("error", .string(error))) }
        endArgs.append(("outcome", .string(task.end?.outcome.label ?? "running")))
        event(name: name, cat: "task", ph: "e", ts: max(task.end?.time ?? traceEnd, begin), tid: tid, id: id, args: endArgs)
    }

    /// Writes the findings as instants on their tasks' tracks, and the document's end.
    public mutating func finish(findings: [Finding], info: TraceInfo) {
        for finding in findings {
            event(name: "\(finding.level.rawValue)[\(finding.rule)]", cat: "finding", ph: "i", ts: finding.time,
                  tid: Self.track(finding.task), s: "t",
                  args: [("help", .string(finding.help)), ("message", .string(finding.message)),
                         ("notes", .string(finding.notes.joined(separator: "\n")))])
        }
        buffer += Array("\n],\"displayTimeUnit\":\"ms\",\"otherData\":{".utf8)
        var other: [(String, String)] = [("exporter", "canceltrace"), ("source", file)]
        for (key, value) in info.items { other.append(("trace." + key, value)) }
        for (index, (key, value)) in other.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            JSONText.appendString(key, to: &buffer)
            buffer.append(UInt8(ascii: ":"))
            JSONText.appendString(value, to: &buffer)
        }
        buffer += Array("}}\n".utf8)
        sink(buffer)
        buffer.removeAll()
    }

    // MARK: Writing

    enum Value {
        case string(String), uint(UInt64), bool(Bool)
    }

    private var events = 0

    private mutating func event(name: String, cat: String? = nil, ph: String, ts: UInt64? = nil, tid: Int,
                                id: String? = nil, bp: String? = nil, s: String? = nil, args: [(String, Value)] = []) {
        if events > 0 { buffer += Array(",\n".utf8) }
        events += 1
        buffer += Array("{\"name\":".utf8)
        JSONText.appendString(Self.bounded(name), to: &buffer)
        if let cat { buffer += Array(",\"cat\":\"\(cat)\"".utf8) }
        buffer += Array(",\"ph\":\"\(ph)\"".utf8)
        if let ts { buffer += Array(",\"ts\":\(Self.microseconds(ts))".utf8) }
        buffer += Array(",\"pid\":\(Self.pid),\"tid\":\(tid)".utf8)
        if let id { buffer += Array(",\"id\":\"\(id)\"".utf8) }
        if let bp { buffer += Array(",\"bp\":\"\(bp)\"".utf8) }
        if let s { buffer += Array(",\"s\":\"\(s)\"".utf8) }
        if !args.isEmpty {
            buffer += Array(",\"args\":{".utf8)
            for (index, (key, value)) in args.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                JSONText.appendString(key, to: &buffer)
                buffer.append(UInt8(ascii: ":"))
                switch value {
                case let .string(text): JSONText.appendString(Self.bounded(text), to: &buffer)
                case let .uint(number): buffer += Array(String(number).utf8)
                case let .bool(flag): buffer += Array((flag ? "true" : "false").utf8)
                }
            }
            buffer.append(UInt8(ascii: "}"))
        }
        buffer.append(UInt8(ascii: "}"))
        if buffer.count >= 1 << 16 {
            sink(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Characters kept of any one string from the trace (a name is up to 64 KiB, and each task's name is
    /// written three times): so the export is bounded per event, not by what the trace's names repeat.
    static let textLimit = 1_000

    static func bounded(_ text: String) -> String { BoundedFinding.cut(text, limit: textLimit) }

    /// A task's track: its id, kept below 2⁵³ so that JavaScript viewers read it exactly.
    static func track(_ task: TaskID) -> Int { Int(task & 0x1F_FFFF_FFFF_FFFF) }

    /// Microseconds with the nanosecond digits exact: 1001001 ns → `1001.001`.
    static func microseconds(_ ns: UInt64) -> String {
        let fraction = ns % 1_000
        guard fraction != 0 else { return String(ns / 1_000) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.last == "0" { digits.removeLast() }
        return "\(ns / 1_000).\(digits)"
    }

    static func lastPathComponent(_ path: String) -> String {
        String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(path))
    }
}

/// JSON string literals for hand-written JSON: `"`, `\` and U+0000–U+001F escaped, and U+2028/U+2029 too, for
/// consumers that embed JSON in JavaScript (Docs/Reliability.md).
enum JSONText {
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var i = 0
            while i < bytes.count {
                let byte = bytes[i]
                switch byte {
                case 0x22: out += [0x5C, 0x22]
                case 0x5C: out += [0x5C, 0x5C]
                case 0x0A: out += [0x5C, UInt8(ascii: "n")]
                case 0x0D: out += [0x5C, UInt8(ascii: "r")]
                case 0x09: out += [0x5C, UInt8(ascii: "t")]
                case 0x00..<0x20: out += Array("\\u00".utf8) + [hexDigit(byte >> 4), hexDigit(byte & 0xF)]
                case 0xE2 where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                    out += Array((bytes[i + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8)
                    i += 2
                default: out.append(byte)
                }
                i += 1
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? 0x30 + value : 0x61 + value - 10 }

    /// JSON from `JSONEncoder` with U+2028/U+2029 escaped (the encoder leaves them raw; in a JSON document they
    /// can only be inside strings, so replacing them is exact).
    static func escapingLineSeparators(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: { $0.value == 0x2028 || $0.value == 0x2029 }) else { return json }
        var out = String.UnicodeScalarView()
        for scalar in json.unicodeScalars {
            switch scalar.value {
            case 0x2028: out.append(contentsOf: "\\u2028".unicodeScalars)
            case 0x2029: out.append(contentsOf: "\\u2029".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}
