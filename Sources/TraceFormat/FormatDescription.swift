/// The format as data: every kind, field, enumeration (with its fallback) and limit, as JSON.
///
/// The Swift tables (`KindSpec.all`, `TraceLayout`) are the source; `Docs/TraceFormat.json` is this text checked
/// in, so that writers and readers in other languages (the Python recorder, the coming C preload library) test
/// themselves against the same contract instead of a hand copy. `FormatDescriptionTests` fails when the two drift.
public enum FormatDescription {
    /// Deterministic JSON (keys in a fixed order, two-space indent, ending in a newline).
    public static var json: String {
        var lines: [String] = ["{"]
        lines.append("  \"version\": { \"major\": \(TraceLayout.majorVersion), \"minor\": \(TraceLayout.minorVersion) },")
        lines.append("  \"magic\": [\(TraceLayout.magic.map(String.init).joined(separator: ", "))],")
        lines.append("  \"chunkMarker\": [\(TraceLayout.chunkMarker.map(String.init).joined(separator: ", "))],")
        lines.append("  \"limits\": {")
        let limits: [(String, Int)] = [
            ("headerSize", TraceLayout.headerSize), ("chunkHeaderSize", TraceLayout.chunkHeaderSize),
            ("maxChunkRawLength", TraceLayout.maxChunkRawLength),
            ("maxChunkCompressedLength", TraceLayout.maxChunkCompressedLength),
            ("defaultChunkRawLength", TraceLayout.defaultChunkRawLength),
            ("maxStringLength", TraceLayout.maxStringLength), ("maxStringCount", TraceLayout.maxStringCount),
            ("maxStringTableBytes", TraceLayout.maxStringTableBytes), ("maxInfoItems", TraceLayout.maxInfoItems),
            ("firstExtensionKind", Int(EventKind.firstExtensionKind)),
        ]
        lines.append(limits.map { "    \(quoted($0.0)): \($0.1)" }.joined(separator: ",\n"))
        lines.append("  },")
        lines.append("  \"kinds\": [")
        let kinds = KindSpec.all.map { spec -> String in
            let fields = spec.fields.map { field -> String in
                var parts = ["\"name\": \(quoted(field.name))", "\"type\": \(quoted(field.type.rawValue))"]
                if let fallback = field.fallback {
                    parts.append("\"values\": [\(field.values.map(quoted).joined(separator: ", "))]")
                    parts.append("\"fallback\": \(fallback)")
                }
                return "{ " + parts.joined(separator: ", ") + " }"
            }
            return """
                    {
                      "code": \(spec.kind.rawValue), "name": \(quoted(spec.name)), "timed": \(spec.timed), "extension": \(spec.kind.isExtension),
                      "fields": [\(fields.isEmpty ? "" : "\n        " + fields.joined(separator: ",\n        ") + "\n      ")]
                    }
                """
        }
        lines.append(kinds.joined(separator: ",\n"))
        lines.append("  ]")
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A JSON string literal. The tables hold plain ASCII names; anything else is escaped anyway.
    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case " "..."~": out.unicodeScalars.append(scalar)
            default: out += "\\u" + String(String(scalar.value, radix: 16).suffix(4)).leftPadded(to: 4)
            }
        }
        return out + "\""
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
