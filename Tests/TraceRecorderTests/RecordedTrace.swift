import TraceFormat

/// A trace read back in full, with the lookups the tests need.
struct RecordedTrace {
    let events: [TraceEvent]
    let strings: StringTable
    let info: TraceInfo
    let notices: [ReadNotice]
    let sawClose: Bool

    init(bytes: [UInt8]) throws {
        let reader = try TraceReader(bytes: bytes)
        var events: [TraceEvent] = []
        while let event = try reader.next() { events.append(event) }
        self.init(events: events, reader: reader)
    }

    init(path: String) throws {
        let reader = try TraceReader(path: path)
        var events: [TraceEvent] = []
        while let event = try reader.next() { events.append(event) }
        self.init(events: events, reader: reader)
    }

    private init(events: [TraceEvent], reader: TraceReader) {
        self.events = events
        strings = reader.strings
        info = reader.info
        notices = reader.notices
        sawClose = reader.sawClose
    }

    var spawns: [TraceEvent] { events.filter { $0.kind == .spawn } }

    func name(of task: TaskID) -> String? {
        spawns.first { $0.task == task }.map { strings[$0.name] }
    }

    /// The id of the only task named `name`.
    func task(named name: String) -> TaskID? {
        let matches = spawns.filter { strings[$0.name] == name }
        return matches.count == 1 ? matches[0].task : nil
    }

    func spawn(of task: TaskID) -> TraceEvent? { spawns.first { $0.task == task } }

    /// The events about `task`, spawn and site excluded, in file order.
    func events(of task: TaskID) -> [TraceEvent] {
        events.filter { ![.spawn, .site, .info, .close, .dropped].contains($0.kind) && $0.task == task }
    }

    /// Where `task` was created, from its `site` record.
    func site(of task: TaskID) -> String? {
        events.first { $0.kind == .site && $0.task == task }.map { strings[$0.location] }
    }

    func kinds(of task: TaskID) -> [EventKind] { events(of: task).map(\.kind) }

    func end(of task: TaskID) -> TraceEvent? { events(of: task).first { $0.kind == .end } }

    func cancels(of task: TaskID) -> [TraceEvent] { events(of: task).filter { $0.kind == .cancel } }

    /// The first event earlier than the one before it, described with that one; nil when file order is time order.
    /// A failed expectation then names the pair instead of only saying that some event went backwards.
    var firstTimeGoingBackwards: String? { Self.firstTimeGoingBackwards(in: events) }

    static func firstTimeGoingBackwards(in events: [TraceEvent]) -> String? {
        guard let index = events.indices.dropFirst().first(where: { events[$0].time < events[$0 - 1].time }) else { return nil }
        return "event \(index) of \(events.count) (\(events[index])) is earlier than event \(index - 1) (\(events[index - 1]))"
    }
}
