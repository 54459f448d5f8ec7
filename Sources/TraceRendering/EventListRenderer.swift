import TraceFormat

/// One line per event, fields spelled from the format's kind table, for `canceltrace events`.
///
/// Remembers task names to show them beside ids; at most `maxRememberedNames`, after which later tasks show by id.
public struct EventListRenderer {
    public var style: Style
    private var names: [TaskID: String] = [:]
    public static let maxRememberedNames = 1 << 20

    public init(style: Style) { self.style = style }

    /// The line for `event`, or nil for records that are not listed (string definitions).
    public mutating func line(for event: TraceEvent, strings: StringTable) -> String? {
        guard event.kind != .string else { return nil }
        let spec = event.kind.spec
        if event.kind == .spawn, names.count < Self.maxRememberedNames || names[event.task] != nil {
            names[event.task] = strings[event.name]
        }
        var parts: [String] = []
        for (index, field) in spec.fields.enumerated() {
            let value = event[field: index]
            switch field.type {
            case .task:
                if index > 0 && value == 0 { continue }
                let name = names[value].map { " \"\(TerminalText.escape($0, maxCharacters: 60))\"" } ?? ""
                parts.append(index == 0 ? "#\(value)\(name)" : "\(field.name)=#\(value)\(name)")
            case .string:
                if value == 0 { continue }
                if event.kind == .spawn { continue } // the name is already shown beside the id
                parts.append("\(field.name)=\"\(TerminalText.escape(strings[value], maxCharacters: 120))\"")
            case .enumeration:
                parts.append("\(field.name)=\(field.label(of: value))")
            case .uint, .bytes:
                parts.append("\(field.name)=\(value)")
            }
        }
        let time = Self.seconds(event.time)
        return "\(style.dim(time))  \(colour(TerminalText.pad(spec.name, to: 13), event.kind))  \(parts.joined(separator: " "))"
    }

    /// Seconds with nanosecond digits: `12.000345678`.
    static func seconds(_ ns: UInt64) -> String {
        let fraction = String(ns % 1_000_000_000)
        return "\(ns / 1_000_000_000).\(String(repeating: "0", count: 9 - fraction.count))\(fraction)"
    }

    private func colour(_ text: String, _ kind: EventKind) -> String {
        switch kind {
        case .cancel: style.red(text)
        case .caught: style.yellow(text)
        case .rethrow: style.green(text)
        case .cleanupBegin, .cleanupEnd: style.cyan(text)
        case .dropped: style.boldRed(text)
        case .info, .close, .string: style.dim(text)
        default: text
        }
    }
}
