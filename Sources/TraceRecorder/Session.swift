import TraceFormat

/// One recording: the chunk being filled, the string table, task ids and drop accounting.
///
/// Only touched under `Recorder.state`'s lock, which is what makes file order equal time order: each event's
/// time is read inside the lock, just before the event is appended.
struct Session {
    private(set) var encoder: EventEncoder
    let queue: ChunkQueue
    /// Which of the process's sessions this is (1, 2, …); task records remember it.
    let number: UInt64
    private let chunkSize: Int
    private let policy: CancelTrace.Options.WriterPolicy
    private var clock = EventClock()

    private var stringIDs: [String: StringID] = [:]
    /// The last name seen in each slot, by a cheap hash of its bytes: most events repeat a few names, and the
    /// dictionary's SipHash cost more than the rest of such an event. Checked with `==` before use.
    private var recentStrings = [(text: String, id: StringID)?](repeating: nil, count: Session.recentStringSlots)
    private static let recentStringSlots = 256
    private var typeNameIDs: [ObjectIdentifier: StringID] = [:]
    /// The default name and the location text of each call site that started a task, formatted once.
    private var siteIDs: [CallSite.Key: (name: StringID, location: StringID)] = [:]
    /// Text of string id `i + 1`, to define again the strings of a dropped chunk.
    private var stringTexts: [String] = []
    private var stringBytes = 0
    /// The first string id defined in the current chunk.
    private var firstStringOfChunk: StringID = 1
    private var nextTaskID: TaskID = 1

    /// Events in the current chunk, not counting `dropped` records.
    private var eventsInChunk: UInt64 = 0
    /// Events lost and not yet reported by a `dropped` record that reached the writer.
    private var unreportedDrops: UInt64 = 0
    /// The count carried by the `dropped` record at the head of the current chunk.
    private var dropsReportedInChunk: UInt64 = 0

    init(queue: ChunkQueue, options: CancelTrace.Options, number: UInt64) {
        self.queue = queue
        self.number = number
        self.encoder = queue.makeEncoder()
        self.chunkSize = max(256, min(options.chunkSize, TraceLayout.maxChunkRawLength / 2))
        self.policy = options.whenWriterFallsBehind
    }

    /// Nanoseconds since the session started, never less than the previous event's.
    @inline(__always)
    mutating func now() -> UInt64 { clock.now() }

    /// Whether `record`'s task was spawned in this session.
    @inline(__always)
    func owns(_ record: TaskRecord) -> Bool { record.session == number }

    /// `record`'s task id in this session's trace: 0 (no traced task) when there is none, or when it was spawned
    /// in an earlier session and so has no spawn in this trace.
    @inline(__always)
    func id(of record: TaskRecord?) -> TaskID {
        guard let record, record.session == number else { return 0 }
        return record.id
    }

    mutating func allocateTaskID() -> TaskID {
        defer { nextTaskID += 1 }
        return nextTaskID
    }

    // MARK: Strings

    /// The id of `text`, defining it in the current chunk the first time. Names beyond the format's string-table
    /// limits all share one placeholder, so an app that names every task differently still writes a readable trace.
    mutating func string(_ text: String) -> StringID {
        if text.isEmpty { return 0 }
        let slot = Session.recentSlot(of: text)
        if let recent = recentStrings[slot], recent.text == text { return recent.id }
        let id = lookUpOrDefine(text)
        recentStrings[slot] = (text, id)
        return id
    }

    private mutating func lookUpOrDefine(_ text: String) -> StringID {
        if let id = stringIDs[text] { return id }
        let bounded = TraceStrings.bounded(text)
        guard stringTexts.count + 2 < TraceLayout.maxStringCount,
              stringBytes + bounded.utf8.count + 64 < TraceLayout.maxStringTableBytes else {
            return overflowString()
        }
        let id = define(bounded)
        stringIDs[text] = id
        return id
    }

    /// `recentStrings`' slot for `text`: a multiply-xor over its first 32 UTF-8 bytes, much cheaper than the
    /// dictionary's SipHash for the short names that events repeat.
    @inline(__always)
    private static func recentSlot(of text: String) -> Int {
        let hash = text.utf8.withContiguousStorageIfAvailable { bytes -> UInt64 in
            var hash = UInt64(truncatingIfNeeded: bytes.count) &* 0x9E37_79B9_7F4A_7C15
            for byte in bytes.prefix(32) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            return hash
        } ?? 0
        return Int(truncatingIfNeeded: hash >> 40) & (recentStringSlots - 1)
    }

    /// The id of an error type's name, formatted only the first time the type is seen.
    mutating func typeName(of error: any Error) -> StringID {
        let type = Swift.type(of: error)
        if let id = typeNameIDs[ObjectIdentifier(type)] { return id }
        let id = string(String(describing: type))
        typeNameIDs[ObjectIdentifier(type)] = id
        return id
    }

    /// The ids of `site`'s default task name and location text, formatted only the first time it is seen.
    mutating func site(_ site: CallSite) -> (name: StringID, location: StringID) {
        let key = site.key
        if let ids = siteIDs[key] { return ids }
        let ids = (name: string(site.defaultName), location: string(site.location))
        siteIDs[key] = ids
        return ids
    }

    private mutating func overflowString() -> StringID {
        let text = "<names over the trace's string limit>"
        if let id = stringIDs[text] { return id }
        let id = define(text)
        stringIDs[text] = id
        return id
    }

    private mutating func define(_ text: String) -> StringID {
        stringTexts.append(text)
        stringBytes += text.utf8.count
        let id = StringID(stringTexts.count)
        encoder.appendString(id: id, utf8: text.utf8)
        return id
    }

    // MARK: Events

    /// Appends `event`; hands the chunk to the writer once it reaches the chunk size.
    mutating func append(_ event: TraceEvent) {
        encoder.append(event)
        eventsInChunk &+= 1
        if encoder.bytes.count >= chunkSize { finishChunk(mustKeep: false) }
    }

    /// Appends the `close` record and hands the chunk to the writer, waiting for room whatever the policy: the
    /// close must not go out in a chunk that the drop policy may discard (it would be counted as dropped and the
    /// trace would look cut short).
    mutating func close() {
        encoder.append(.close(time: now()))
        eventsInChunk &+= 1
        finishChunk(mustKeep: true)
    }

    /// Hands the current chunk to the writer. With the drop policy and a full queue (and unless `mustKeep`) the
    /// chunk is discarded instead: its events are counted for the next `dropped` record, and the strings it
    /// defined are defined again in the next chunk so that later events still resolve their names.
    mutating func finishChunk(mustKeep: Bool) {
        guard !encoder.bytes.isEmpty else { return }
        if queue.submit(&encoder, waitForRoom: mustKeep || policy == .block) {
            chunkWasKept()
        } else {
            unreportedDrops &+= eventsInChunk
            clock.recalibrate()
            encoder.startChunk()
            eventsInChunk = 0
            for index in Int(firstStringOfChunk - 1)..<stringTexts.count {
                encoder.appendString(id: StringID(index + 1), utf8: stringTexts[index].utf8)
            }
        }
        dropsReportedInChunk = 0
        if unreportedDrops > 0 {
            encoder.append(.dropped(time: now(), count: unreportedDrops))
            dropsReportedInChunk = unreportedDrops
        }
    }

    /// Hands the partial chunk to the writer if the queue has room right now; never waits and never drops.
    mutating func flushIfRoom() {
        guard !encoder.bytes.isEmpty, queue.submit(&encoder, waitForRoom: false) else { return }
        chunkWasKept()
    }

    private mutating func chunkWasKept() {
        clock.recalibrate()
        unreportedDrops -= dropsReportedInChunk
        dropsReportedInChunk = 0
        eventsInChunk = 0
        firstStringOfChunk = StringID(stringTexts.count + 1)
    }
}
