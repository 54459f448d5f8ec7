/// Where a traced task was created: the `#fileID`, `#line` and `#function` of the call that started it.
///
/// The helpers take these as defaulted arguments, so naming a task is optional: an unnamed task is called
/// `File.swift:42`, and its full site, `Module/File.swift:42 (function)`, goes into the trace once the task is
/// spawned. Static strings and a line number cost nothing to pass when recording is off; when it is on, the texts
/// are formatted once per call site and session (`Session.site(_:)`).
@usableFromInline
struct CallSite: Sendable {
    let fileID: StaticString
    let line: UInt
    let function: StaticString

    @usableFromInline
    init(fileID: StaticString, line: UInt, function: StaticString) {
        self.fileID = fileID
        self.line = line
        self.function = function
    }

    /// The name of a task started here without one: the file's name (no module) and the line.
    var defaultName: String {
        let file = fileID.description
        let name = file.split(separator: "/").last.map(String.init) ?? file
        return "\(name):\(line)"
    }

    /// The trace's `site` text: `Module/File.swift:42 (function)`.
    var location: String { "\(fileID):\(line) (\(function))" }

    /// Identifies the call site without reading its text: the literals' addresses and the line.
    var key: Key { Key(fileID: Self.address(of: fileID), line: line, function: Self.address(of: function)) }

    struct Key: Hashable {
        let fileID: UInt
        let line: UInt
        let function: UInt
    }

    private static func address(of text: StaticString) -> UInt {
        text.hasPointerRepresentation ? UInt(bitPattern: text.utf8Start) : UInt(text.unicodeScalar.value)
    }
}
