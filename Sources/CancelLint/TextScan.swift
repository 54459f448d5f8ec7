/// A look at a file's bytes before parsing it: parsing is most of the linter's time, and a file without `await`
/// or `try?` cannot hold a finding (every rule starts at one of them). Files with `async` are parsed too: their
/// async functions' bodies tell the module pass what awaiting them can throw (`CancellationThrowing`).
struct TextScan {
    /// Whether the file has `await`, `try?` or `async` anywhere (comments and strings count: it only has to be safe).
    let needsParsing: Bool

    init(_ text: String) {
        needsParsing = Self.contains(text, "await") || Self.contains(text, "try?") || Self.contains(text, "async")
    }

    /// The words right after `func`, and after `let`/`var`, in a file left unparsed: the functions it declares and
    /// the names it may bind to closures. The module pass treats both as unknown.
    static func declaredNames(_ text: String) -> (functions: [String], values: Set<String>) {
        var values: Set<String> = []
        var functions: [String] = []
        var previous = ""
        var word: [UInt8] = []
        func flush() {
            guard !word.isEmpty else { return }
            let current = String(decoding: word, as: UTF8.self)
            if previous == "func" { functions.append(current) }
            if previous == "let" || previous == "var" { values.insert(current) }
            previous = current
            word.removeAll(keepingCapacity: true)
        }
        for byte in text.utf8 {
            if byte == UInt8(ascii: "_") || (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7a) || byte >= 0x80 {
                word.append(byte)
            } else {
                flush()
            }
        }
        flush()
        return (functions, values)
    }

    private static func contains(_ text: String, _ needle: StaticString) -> Bool {
        let pattern = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.count >= pattern.count, let first = pattern.first else { return false }
            var index = 0
            let last = bytes.count - pattern.count
            while index <= last {
                if bytes[index] == first {
                    var matched = 1
                    while matched < pattern.count && bytes[index + matched] == pattern[matched] { matched += 1 }
                    if matched == pattern.count { return true }
                }
                index += 1
            }
            return false
        }
    }
}
