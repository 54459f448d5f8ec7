import TraceFormat

/// How serious a finding is. `check` exits 1 when any finding is at `error`.
public enum Level: String, Sendable, CaseIterable, Comparable, Codable {
    case note, warning, error

    public static func < (lhs: Level, rhs: Level) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One diagnostic about one task (or the whole trace, with `task` 0).
public struct Finding: Sendable, Equatable {
    public var rule: String
    public var level: Level
    /// The task the finding is about, or 0 for the trace as a whole.
    public var task: TaskID
    public var taskName: String
    /// When the problem shows: the end, the catch, the cleanup.
    public var time: UInt64
    /// One line: what happened, with the task and times. Formatted when read (`FindingText`).
    public var message: String { text.description }
    /// Further lines: who cancelled and why, and other context. Formatted when read, like `message`.
    public var notes: [String] {
        (cancel.map { [$0.cause] } ?? []) + (site.isEmpty ? [] : ["created at \(site)"]) + otherNotes
    }
    /// Where the task was created (`file:line (function)`), or empty when the trace does not say.
    public var site: String
    /// How bad, for rules that measure something (a latency, a duration, in ns); 0 otherwise. The worst finding
    /// of a group (`FindingGroup`) is the one with the largest.
    public var magnitude: UInt64 = 0
    /// One line: what to do about it.
    public var help: String
    /// The cancel request behind the finding, when there is one.
    public var cancel: CancelRequest?

    var text: FindingText
    /// The notes after the cancel request's cause.
    var otherNotes: [String]

    init(rule: String, level: Level, task: TaskID, taskName: String, time: UInt64, text: FindingText,
         otherNotes: [String], help: String, cancel: CancelRequest?, site: String = "") {
        self.rule = rule
        self.site = site
        self.level = level
        self.task = task
        self.taskName = taskName
        self.time = time
        self.text = text
        self.otherNotes = otherNotes
        self.help = help
        self.cancel = cancel
    }
}

/// Formats trace times the way every output shows them: seconds to the microsecond.
public enum TraceTime {
    /// Seconds with microsecond precision, trailing zeros dropped down to milliseconds: `1.002 s`, `0.012031 s`.
    public static func seconds(_ nanoseconds: UInt64) -> String {
        // Digits written straight into the string's storage: every finding's message formats a few of these.
        let micros = nanoseconds / 1_000
        var whole = micros / 1_000_000
        var fraction = micros % 1_000_000
        var digits = 6
        while digits > 3 && fraction % 10 == 0 {
            fraction /= 10
            digits -= 1
        }
        return String(unsafeUninitializedCapacity: 32) { buffer in
            var wholeDigits = 1
            var rest = whole / 10
            while rest > 0 { wholeDigits += 1; rest /= 10 }
            var i = wholeDigits
            repeat {
                i -= 1
                buffer[i] = UInt8(ascii: "0") + UInt8(whole % 10)
                whole /= 10
            } while i > 0
            buffer[wholeDigits] = UInt8(ascii: ".")
            i = wholeDigits + 1 + digits
            for _ in 0..<digits {
                i -= 1
                buffer[i] = UInt8(ascii: "0") + UInt8(fraction % 10)
                fraction /= 10
            }
            i = wholeDigits + 1 + digits
            buffer[i] = UInt8(ascii: " ")
            buffer[i + 1] = UInt8(ascii: "s")
            return i + 2
        }
    }

    /// A duration, in the largest unit that keeps it readable: 850 µs, 12.3 ms, 1.502 s.
    public static func duration(_ nanoseconds: UInt64) -> String {
        switch nanoseconds {
        case ..<1_000: "\(nanoseconds) ns"
        case ..<1_000_000: "\(nanoseconds / 1_000) µs"
        case ..<1_000_000_000: "\(format(Double(nanoseconds) / 1e6, digits: 1)) ms"
        default: "\(format(Double(nanoseconds) / 1e9, digits: 3)) s"
        }
    }

    private static func format(_ value: Double, digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((value * scale).rounded())
        let whole = scaled / Int(scale)
        let frac = String(scaled % Int(scale))
        return "\(whole).\(String(repeating: "0", count: digits - frac.count))\(frac)"
    }
}

extension TaskLifecycle {
    /// `task "name" (#id)`, with the name as recorded (renderers escape it for their medium).
    public var label: String { Self.label(name: name, id: id) }

    static func label(name: String, id: TaskID) -> String { "task \"\(name)\" (#\(id))" }
}

extension CancelRequest {
    /// `by task "main" (#1): explicit` / `by an unknown canceller: unknown reason`.
    public var cause: String {
        let who: String
        if by == 0 {
            who = "by an unknown canceller"
        } else if let byName {
            who = "by task \"\(byName)\" (#\(by))"
        } else {
            who = "by task #\(by)"
        }
        let why = switch reason {
        case .explicit: "explicit cancel()"
        case .timeout: "timeout"
        case .siblingFailure: "a sibling in its group failed"
        case .parent: "its parent was cancelled"
        case .shutdown: "shutdown"
        case .unknown: "reason unknown"
        }
        let text = "cancelled at \(TraceTime.seconds(time)) \(who): \(why)"
        return message.isEmpty ? text : "\(text) (message: \"\(message)\")"
    }
}
