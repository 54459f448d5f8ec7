import Foundation
import TraceAnalysis
import TraceFormat

/// `export --format perfetto`: the trace as Chrome Trace Event JSON, which Perfetto UI and chrome://tracing open.
///
/// Each task is one thread-like track (`tid` = its position in first-appearance order, named by `thread_name`
/// metadata) holding one async slice (`b`/`e`, id = the task id in hex) from spawn to end, and thread-scoped
/// instants (`i`) for every cancel request, catch, cleanup begin and end, rethrow, mark and finding. A cancel
/// request by a known task is also an instant on the canceller's track, and a flow (`s` → `f`) joins the two.
/// Times are microseconds since the trace started, as the format wants.
public struct PerfettoExporter: Sendable {
    public init() {}

    /// The JSON document (uncompressed).
    public func json(_ report: AnalysisReport, file: String) -> [UInt8] {
        var events: [Event] = []
        let pid = 1
        events.append(Event(name: "process_name", ph: "M", ts: nil, pid: pid, tid: 0,
                            args: ["name": .string("canceltrace: " + (file as NSString).lastPathComponent)]))
        var track: [TaskID: Int] = [:]
        for (ordinal, task) in report.tasks.enumerated() where track[task.id] == nil { track[task.id] = ordinal + 1 }
        var flowID = 0
        for task in report.tasks {
            guard let tid = track[task.id] else { continue }
            let name = task.name.isEmpty ? "task #\(task.id)" : task.name
            let id = "0x" + String(task.id, radix: 16)
            events.append(Event(name: "thread_name", ph: "M", ts: nil, pid: pid, tid: tid, args: ["name": .string("\(name) #\(task.id)")]))
            events.append(Event(name: "thread_sort_index", ph: "M", ts: nil, pid: pid, tid: tid, args: ["sort_index": .int(tid)]))
            let begin = task.spawnTime ?? task.firstSeen
            var spawnArgs: [String: Value] = ["task": .uint(task.id), "parent": .uint(task.parent), "how": .string(task.how.label)]
            if task.spawnTime == nil { spawnArgs["spawnLost"] = .bool(true) }
            events.append(Event(name: name, cat: "task", ph: "b", ts: begin, pid: pid, tid: tid, id: id, args: spawnArgs))
            for cancel in task.cancels {
                var args: [String: Value] = ["by": .uint(cancel.by), "reason": .string(cancel.reason.label), "withdrawn": .bool(cancel.withdrawn)]
                if let byName = cancel.byName { args["byName"] = .string(byName) }
                if !cancel.message.isEmpty { args["message"] = .string(cancel.message) }
                events.append(.instant("cancel requested", cat: "cancel", at: cancel.time, pid: pid, tid: tid, args: args))
                if cancel.by != 0, let from = track[cancel.by], from != tid {
                    flowID += 1
                    events.append(.instant("cancel sent", cat: "cancel", at: cancel.time, pid: pid, tid: from,
                                           args: ["target": .uint(task.id), "targetName": .string(task.name), "reason": .string(cancel.reason.label)]))
                    events.append(Event(name: "cancel", cat: "cancel", ph: "s", ts: cancel.time, pid: pid, tid: from, id: String(flowID)))
                    events.append(Event(name: "cancel", cat: "cancel", ph: "f", ts: cancel.time, pid: pid, tid: tid, id: String(flowID), bp: "e"))
                }
            }
            for caught in task.catches {
                events.append(.instant("caught", cat: "cancel", at: caught.time, pid: pid, tid: tid,
                                       args: ["error": .string(caught.errorType), "whileCancelPending": .bool(caught.whileCancelPending)]))
            }
            for cleanup in task.cleanups {
                events.append(.instant("cleanup begin", cat: "cleanup", at: cleanup.begin, pid: pid, tid: tid, args: [:]))
                if let end = cleanup.end {
                    var args: [String: Value] = ["result": .string(cleanup.result?.label ?? "ok")]
                    if !cleanup.errorType.isEmpty { args["error"] = .string(cleanup.errorType) }
                    events.append(.instant("cleanup end", cat: "cleanup", at: end, pid: pid, tid: tid, args: args))
                }
            }
            for time in task.rethrowTimes {
                events.append(.instant("rethrow", cat: "cancel", at: time, pid: pid, tid: tid, args: [:]))
            }
            for mark in task.marks {
                events.append(.instant("mark", cat: "mark", at: mark.time, pid: pid, tid: tid, args: ["label": .string(mark.label)]))
            }
            var endArgs: [String: Value] = ["outcome": .string(task.end?.outcome.label ?? "running")]
            if let error = task.end?.errorType, !error.isEmpty { endArgs["error"] = .string(error) }
            events.append(Event(name: name, cat: "task", ph: "e", ts: max(task.end?.time ?? report.traceEnd, begin),
                                pid: pid, tid: tid, id: id, args: endArgs))
        }
        for finding in report.findings {
            guard let tid = track[finding.task] else { continue }
            events.append(.instant("\(finding.level.rawValue)[\(finding.rule)]", cat: "finding", at: finding.time, pid: pid, tid: tid,
                                   args: ["message": .string(finding.message), "notes": .string(finding.notes.joined(separator: "\n")),
                                          "help": .string(finding.help)]))
        }
        // Metadata first, then by time; the sort is stable so a task's b comes before its instants at the same time.
        let ordered = events.enumerated().sorted { a, b in
            let ka = (a.element.ph == "M" ? 0 : 1, a.element.ts ?? 0, a.offset)
            let kb = (b.element.ph == "M" ? 0 : 1, b.element.ts ?? 0, b.offset)
            return ka < kb
        }.map(\.element)
        var other: [String: String] = ["source": file, "exporter": "canceltrace"]
        for (key, value) in report.info.items { other["trace." + key] = value }
        let document = Document(traceEvents: ordered, displayTimeUnit: "ms", otherData: other)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(document)) ?? Data("{}".utf8))
    }

    /// The JSON document, gzip-compressed (`.json.gz`).
    public func gzip(_ report: AnalysisReport, file: String) throws -> [UInt8] {
        try Gzip.compress(json(report, file: file))
    }

    struct Document: Encodable {
        let traceEvents: [Event]
        let displayTimeUnit: String
        let otherData: [String: String]
    }

    enum Value: Encodable {
        case string(String), int(Int), uint(UInt64), bool(Bool)
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .string(value): try container.encode(value)
            case let .int(value): try container.encode(value)
            case let .uint(value): try container.encode(value)
            case let .bool(value): try container.encode(value)
            }
        }
    }

    struct Event: Encodable {
        var name: String
        var cat: String?
        var ph: String
        /// Nanoseconds; written as microseconds.
        var ts: UInt64?
        var pid: Int
        var tid: Int
        var id: String?
        var bp: String?
        var s: String?
        var args: [String: Value]?

        init(name: String, cat: String? = nil, ph: String, ts: UInt64?, pid: Int, tid: Int, id: String? = nil,
             bp: String? = nil, s: String? = nil, args: [String: Value]? = nil) {
            self.name = name; self.cat = cat; self.ph = ph; self.ts = ts; self.pid = pid; self.tid = tid
            self.id = id; self.bp = bp; self.s = s; self.args = args
        }

        static func instant(_ name: String, cat: String, at time: UInt64, pid: Int, tid: Int, args: [String: Value]) -> Event {
            Event(name: name, cat: cat, ph: "i", ts: time, pid: pid, tid: tid, s: "t", args: args.isEmpty ? nil : args)
        }

        enum CodingKeys: String, CodingKey { case name, cat, ph, ts, pid, tid, id, bp, s, args }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encodeIfPresent(cat, forKey: .cat)
            try container.encode(ph, forKey: .ph)
            // Microseconds with nanosecond digits, written exactly (no binary fraction noise).
            if let ts { try container.encode(Microseconds(nanoseconds: ts), forKey: .ts) }
            try container.encode(pid, forKey: .pid)
            try container.encode(tid, forKey: .tid)
            try container.encodeIfPresent(id, forKey: .id)
            try container.encodeIfPresent(bp, forKey: .bp)
            try container.encodeIfPresent(s, forKey: .s)
            try container.encodeIfPresent(args, forKey: .args)
        }
    }

    /// A time in microseconds as a JSON number with up to three decimals.
    struct Microseconds: Encodable {
        let nanoseconds: UInt64
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            // Decimal keeps the digits exact: 1001001 ns → 1001.001.
            try container.encode(Decimal(nanoseconds) / Decimal(1000))
        }
    }
}
