import TraceFormat

/// The writer thread's side of a recording: encodes merged events into the current chunk, converting their
/// clock stamps to session times and their interned string ids to the file's.
///
/// Only the writer thread touches it. Events arrive in stamp order (`ChunkWriter` merges the threads' rings),
/// and the clock never hands out an earlier time than the previous one, so file order is time order.
struct Session {
    private(set) var encoder: EventEncoder
    let chunkSize: Int
    private(set) var clock: EventClock
    private let strings: StringInterner
    /// The file's id of interned string `i + 1`, or 0 until a written record used it.
    private var fileIDs: [StringID] = []
    private var nextFileID: StringID = 1

    init(strings: StringInterner, chunkSize: Int, clock: EventClock) {
        self.strings = strings
        self.chunkSize = max(256, min(chunkSize, TraceLayout.maxChunkRawLength / 2))
        self.clock = clock
        encoder = EventEncoder(reservingCapacity: self.chunkSize + 256)
    }

    /// Whether the current chunk reached the chunk size and should be handed to the sink.
    var isChunkFull: Bool { encoder.bytes.count >= chunkSize }
    var isChunkEmpty: Bool { encoder.bytes.isEmpty }

    /// The file's id of interned string `id`, defining it in the current chunk the first time (0 stays 0).
    @inline(__always)
    mutating func fileID(_ id: StringID) -> StringID {
        if id == 0 { return 0 }
        let index = Int(id) - 1
        if index < fileIDs.count, fileIDs[index] != 0 { return fileIDs[index] }
        return define(index)
    }

    private mutating func define(_ index: Int) -> StringID {
        if index >= fileIDs.count { fileIDs.append(contentsOf: repeatElement(0, count: index - fileIDs.count + 1)) }
        let fileID = nextFileID
        nextFileID += 1
        fileIDs[index] = fileID
        encoder.appendString(id: fileID, utf8: strings.text(of: StringID(index + 1)).utf8)
        return fileID
    }

    /// Appends an event taken from a thread's ring: time a stamp, strings interned ids. A spawn entry carries
    /// its site's location above the `how` byte and becomes the `spawn` and `site` records.
    @inline(__always)
    mutating func append(stamped entry: TraceEvent) {
        var event = entry
        event.time = clock.time(ofStamp: entry.time)
        switch event.kind {
        case .spawn:
            let location = event.fields.3 >> 8
            event.fields.2 = fileID(event.fields.2)
            event.fields.3 &= 0xFF
            let locationID = fileID(location)
            encoder.append(event)
            encoder.append(.site(time: event.time, task: event.fields.0, location: locationID))
            return
        case .caught, .mark, .site:
            event.fields.1 = fileID(event.fields.1)
        case .cleanupEnd, .end, .signal:
            event.fields.2 = fileID(event.fields.2)
        case .cancel:
            event.fields.3 = fileID(event.fields.3)
        case .info:
            event.fields.0 = fileID(event.fields.0)
            event.fields.1 = fileID(event.fields.1)
        default:
            break
        }
        encoder.append(event)
    }

    /// Appends a record the writer makes itself: `info` (time 0), `dropped` (the time of the last written
    /// event: a later time would raise the times of events still to be merged), `close` (now, after everything).
    mutating func appendNow(_ event: TraceEvent) {
        var event = event
        switch event.kind {
        case .info:
            event.time = 0
            event.fields.0 = fileID(event.fields.0)
            event.fields.1 = fileID(event.fields.1)
        case .close:
            event.time = clock.now()
        default:
            event.time = clock.latest
        }
        encoder.append(event)
    }

    /// Starts a new chunk once the current one's bytes were handed to the sink; the clock re-anchors at each
    /// handoff.
    mutating func chunkWritten() {
        encoder.startChunk()
        clock.recalibrate()
    }
}
