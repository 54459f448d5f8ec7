/// Makes text recorded by an application safe to print: names are data, never terminal commands.
public enum TerminalText {
    /// `text` with control characters (C0, DEL, C1, which start ANSI escape sequences) and backslashes written
    /// as escapes (`\e`, `\n`, `\x07`, `\\`), cut to `maxCharacters` with an ellipsis.
    public static func escape(_ text: String, maxCharacters: Int = 80) -> String {
        // The usual case, printable ASCII without a backslash that fits: nothing to escape or cut. `check` escapes
        // two lines per finding, and going scalar by scalar was a third of its time on a large trace.
        if text.utf8.count <= maxCharacters,
           text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != 0x5C }) {
            return text
        }
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            let piece: String
            switch scalar.value {
            case 0x5C: piece = "\\\\"
            case 0x0A: piece = "\\n"
            case 0x0D: piece = "\\r"
            case 0x09: piece = "\\t"
            case 0x1B: piece = "\\e"
            case 0x00..<0x20, 0x7F..<0xA0, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069:
                // Controls, line separators and bidirectional overrides that could disguise output.
                piece = scalar.value < 0x100 ? "\\x" + hex(scalar.value, digits: 2) : "\\u{" + hex(scalar.value, digits: 4) + "}"
            default: piece = String(scalar)
            }
            if count + piece.count > maxCharacters {
                out += "…"
                return out
            }
            out += piece
            count += piece.count
        }
        return out
    }

    private static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// `text` padded with spaces to `width` terminal columns (or cut, with an ellipsis).
    public static func pad(_ text: String, to width: Int) -> String {
        let shown = cut(text, toWidth: width)
        let columns = displayWidth(shown)
        return columns >= width ? shown : shown + String(repeating: " ", count: width - columns)
    }

    /// `text` cut to at most `width` terminal columns, ending with `…` when cut.
    public static func cut(_ text: String, toWidth width: Int) -> String {
        // ASCII: one column per byte.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            if text.utf8.count <= width { return text }
            guard width > 0 else { return "" }
            return String(text.prefix(width - 1)) + "…"
        }
        if displayWidth(text) <= width { return text }
        guard width > 0 else { return "" }
        var out = ""
        var used = 0
        for character in text {
            let columns = displayWidth(of: character)
            if used + columns > width - 1 { break }
            out.append(character)
            used += columns
        }
        return out + "…"
    }

    /// Columns `text` takes in a terminal: 2 for East Asian wide and fullwidth characters and for emoji, 0 for
    /// combining marks and zero-width characters, 1 otherwise (what `wcwidth` says, without the C locale).
    public static func displayWidth(_ text: String) -> Int {
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.utf8.count }
        return text.reduce(0) { $0 + displayWidth(of: $1) }
    }

    static func displayWidth(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if scalars.contains(where: { $0.properties.isEmojiPresentation || $0.value == 0xFE0F }) { return 2 }
        switch first.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        switch first.value {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF,
             0x4E00...0x9FFF, 0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
             0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x1F300...0x1F64F, 0x1F900...0x1F9FF,
             0x20000...0x2FFFD, 0x30000...0x3FFFD:
            return 2
        default:
            return 1
        }
    }
}

/// Whether to colour output, as `--color` chooses.
public enum ColorMode: String, CaseIterable, Sendable {
    case auto, always, never

    /// Colour for `auto`: stdout is a terminal and `NO_COLOR` is unset or empty (https://no-color.org).
    public func resolved(isTerminal: Bool, environment: [String: String]) -> Bool {
        switch self {
        case .always: true
        case .never: false
        case .auto: isTerminal && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
        }
    }
}

/// ANSI styles, or nothing when colour is off, so renderers write `style.red(text)` either way.
public struct Style: Sendable {
    public let enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    private func wrap(_ code: String, _ text: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    public func bold(_ text: String) -> String { wrap("1", text) }
    public func dim(_ text: String) -> String { wrap("2", text) }
    public func red(_ text: String) -> String { wrap("31", text) }
    public func green(_ text: String) -> String { wrap("32", text) }
    public func yellow(_ text: String) -> String { wrap("33", text) }
    public func blue(_ text: String) -> String { wrap("34", text) }
    public func magenta(_ text: String) -> String { wrap("35", text) }
    public func cyan(_ text: String) -> String { wrap("36", text) }
    public func boldRed(_ text: String) -> String { wrap("1;31", text) }
    public func boldYellow(_ text: String) -> String { wrap("1;33", text) }
}
