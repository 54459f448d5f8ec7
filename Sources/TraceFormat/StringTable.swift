/// The strings a trace defines, by id. Id 0 is the empty string.
///
/// Definitions are global to the file: a chunk may use strings defined in any earlier chunk. A definition lost
/// with a damaged chunk reads as a visible placeholder rather than failing the read.
public struct StringTable: Sendable {
    private var strings: [String?] = [""]
    public private(set) var totalBytes = 0

    public init() {}

    public subscript(id: StringID) -> String {
        if id < UInt64(strings.count), let text = strings[Int(id)] { return text }
        return "<lost string #\(id)>"
    }

    /// Whether `id` has a definition (0 always has).
    public func contains(_ id: StringID) -> Bool {
        id < UInt64(strings.count) && strings[Int(id)] != nil
    }

    /// Number of defined ids, including 0.
    public var count: Int { strings.count }

    /// Records `text` as string `id`. Returns false when the id or the total would pass the format's limits.
    mutating func define(id: StringID, text: String) -> Bool {
        guard id > 0, id <= UInt64(TraceLayout.maxStringCount) else { return false }
        let bytes = text.utf8.count
        guard totalBytes + bytes <= TraceLayout.maxStringTableBytes else { return false }
        let index = Int(id)
        if index >= strings.count { strings.append(contentsOf: repeatElement(nil, count: index - strings.count + 1)) }
        totalBytes += bytes - (strings[index]?.utf8.count ?? 0)
        strings[index] = text
        return true
    }
}

/// The trace's metadata (`info` records), in the order written.
public struct TraceInfo: Sendable, Equatable {
    /// The keys recorders write. Readers keep unknown keys too.
    public enum Key {
        public static let runtime = "runtime"
        public static let recorder = "recorder"
        public static let recorderVersion = "recorder-version"
        public static let pid = "pid"
        public static let process = "process"
        public static let wallClockStartNs = "wall-clock-start-ns"
        public static let clockResolutionNs = "clock-resolution-ns"
    }

    public private(set) var items: [(key: String, value: String)] = []

    public init(_ items: [(key: String, value: String)] = []) { self.items = items }

    public subscript(key: String) -> String? { items.last { $0.key == key }?.value }

    mutating func append(key: String, value: String) { items.append((key, value)) }

    public static func == (lhs: TraceInfo, rhs: TraceInfo) -> Bool {
        lhs.items.elementsEqual(rhs.items) { $0.key == $1.key && $0.value == $1.value }
    }
}
