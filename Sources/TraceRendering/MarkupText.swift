/// Makes text recorded by an application safe inside HTML and SVG: names are data, never markup.
public enum MarkupText {
    /// `text` for a text node or a quoted attribute value: `& < > " '` become entities, and characters XML forbids
    /// or that could disguise output (controls, bidirectional overrides) are shown as escapes, as in the terminal.
    /// Cut to `maxCharacters` with an ellipsis.
    public static func escape(_ text: String, maxCharacters: Int = 200) -> String {
        var out = ""
        for character in TerminalText.escape(text, maxCharacters: maxCharacters).unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{FFFE}", "\u{FFFF}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// A number for an SVG attribute: at most one decimal, no exponent, no locale.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = tenths.magnitude
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }
}
