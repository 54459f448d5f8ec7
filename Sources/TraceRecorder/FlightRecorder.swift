#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TraceFormat

/// Set by the SIGUSR1 handler (an atomic store is async-signal-safe); the writer thread takes the snapshot.
let flightSnapshotRequested = Atomic<Bool>(false)

extension CancelTrace {
    /// Flight-recorder mode, modelled on Go 1.25's `runtime/trace.FlightRecorder`: the trace stays in memory,
    /// only its most recent part is kept, and it is written out on demand — when something went wrong. Named as
    /// Go names its `FlightRecorderConfig`: the settings, not the recorder.
    public struct FlightRecorderConfiguration: Sendable {
        /// Where snapshots go (written to `path.tmp`, then renamed, so a reader never sees half a snapshot).
        public var path: String
        /// Compressed bytes of chunks kept in memory; the oldest chunks go first. Default 8 MiB.
        public var maxBytes: Int
        /// Keep only chunks that reached the ring within this long, when set. Default nil (size only).
        public var maxAge: Duration?
        /// Write a snapshot when the process receives SIGUSR1. Default true.
        public var writeOnSIGUSR1: Bool
        /// Write a snapshot when recording finishes (`finish()`, or a normal process exit). Default true.
        public var writeAtExit: Bool

        public init(path: String, maxBytes: Int = 8 << 20, maxAge: Duration? = nil,
                    writeOnSIGUSR1: Bool = true, writeAtExit: Bool = true) {
            self.path = path
            self.maxBytes = maxBytes
            self.maxAge = maxAge
            self.writeOnSIGUSR1 = writeOnSIGUSR1
            self.writeAtExit = writeAtExit
        }
    }

    @available(*, deprecated, renamed: "FlightRecorderConfiguration")
    public typealias FlightRecorder = FlightRecorderConfiguration

    /// Starts recording into a flight recorder: events are encoded and compressed as usual (off the app's
    /// threads), but chunks stay in a ring in memory bounded by `flightRecorder.maxBytes` / `maxAge` instead of
    /// going to a file. `writeFlightRecording()`, SIGUSR1 and the end of recording write the ring out as a
    /// complete trace.
    ///
    /// Each snapshot is a valid trace on its own: the header, the metadata chunk, one chunk defining the
    /// strings the kept chunks may use, the kept chunks, and a `close` record. Tasks that started before the
    /// oldest kept chunk appear without their spawn (the analyzer reports them as first seen later).
    public static func startFlightRecorder(_ flightRecorder: FlightRecorderConfiguration,
                                           options: Options = Options()) throws(CancelTraceError) {
        let ring = FlightRing(settings: flightRecorder, compressionLevel: options.compressionLevel)
        try Recorder.start(sink: ring, options: options, flight: ring)
        if flightRecorder.writeOnSIGUSR1 { FlightRing.installSignalHandler() }
    }

    /// Writes the flight recorder's current contents, including the events recorded up to this call, as a
    /// trace at `path` (default: the configured path). Blocks until the writer has compressed the latest events.
    /// - Returns: the bytes written.
    /// - Throws: `CancelTraceError.notFlightRecording` when no flight recorder runs; `.cannotCreate` when the
    ///   file cannot be written.
    @discardableResult
    public static func writeFlightRecording(to path: String? = nil) throws(CancelTraceError) -> Int {
        guard let ring = Recorder.flushToFlightRing() else { throw .notFlightRecording }
        do {
            return try ring.writeSnapshot(to: path)
        } catch {
            throw .cannotCreate(error)
        }
    }
}

/// The flight recorder's in-memory trace: the metadata chunk, then a ring of compressed chunks.
///
/// Only the writer thread adds chunks; snapshots may be taken from any thread, so the state sits behind a lock.
final class FlightRing: ChunkSink, @unchecked Sendable {
    struct Chunk {
        /// Framed and compressed, ready to write: marker, lengths, CRC, zlib payload.
        var framed: [UInt8]
        /// When it reached the ring, on the monotonic clock.
        var arrival: UInt64
        /// The absolute time of its last timed record.
        var lastTime: UInt64
        var hasClose: Bool
    }

    private struct State {
        var metadata: Chunk?
        var ring: [Chunk] = []
        var head = 0
        var ringBytes = 0
        /// Every string defined so far, by id - 1; needed by a snapshot whose chunks use strings defined in
        /// chunks that left the ring.
        var strings: [[UInt8]] = []
        /// Strings defined by the metadata chunk (ids 1 … this).
        var metadataStrings = 0
        var snapshots = 0
    }

    let settings: CancelTrace.FlightRecorderConfiguration
    private let level: Int32
    private let state = Locked(State())

    init(settings: CancelTrace.FlightRecorderConfiguration, compressionLevel: Int32) {
        self.settings = settings
        self.level = compressionLevel
    }

    /// Chunks kept now (metadata included), for tests.
    var keptChunks: Int { state.withLock { ($0.metadata == nil ? 0 : 1) + $0.ring.count - $0.head } }
    /// Compressed bytes of the ring (metadata excluded), for tests.
    var ringBytes: Int { state.withLock { $0.ringBytes } }

    func writeChunk(_ payload: [UInt8]) {
        guard !payload.isEmpty else { return }
        let scan = Self.scan(payload)
        var framed: [UInt8] = []
        var framer = ChunkFramer(compressionLevel: level)
        framer.append(payload: payload, to: &framed)
        let chunk = Chunk(framed: framed, arrival: MonotonicClock.now(), lastTime: scan.lastTime, hasClose: scan.hasClose)
        state.withLock { state in
            for (id, text) in scan.strings {
                let index = Int(id) - 1
                if index >= state.strings.count { state.strings.append(contentsOf: repeatElement([], count: index - state.strings.count + 1)) }
                state.strings[index] = text
            }
            guard state.metadata != nil else {
                state.metadata = chunk
                state.metadataStrings = state.strings.count
                return
            }
            state.ring.append(chunk)
            state.ringBytes += chunk.framed.count
            evict(&state, now: chunk.arrival)
        }
    }

    /// Drops the oldest chunks while the ring is over its size or age; always keeps the newest chunk.
    private func evict(_ state: inout State, now: UInt64) {
        let maxAge = settings.maxAge.map(Recorder.nanoseconds)
        while state.ring.count - state.head > 1 {
            let oldest = state.ring[state.head]
            let tooBig = state.ringBytes > settings.maxBytes
            let tooOld = maxAge.map { now &- oldest.arrival > $0 } ?? false
            guard tooBig || tooOld else { break }
            state.ringBytes -= oldest.framed.count
            state.ring[state.head].framed = []
            state.head += 1
        }
        // Compact the consumed front now and then, so the array does not grow with the recording.
        if state.head > 64 && state.head * 2 > state.ring.count {
            state.ring.removeFirst(state.head)
            state.head = 0
        }
    }

    /// Writes a snapshot; returns the bytes written.
    func writeSnapshot(to path: String?) throws(TraceWriteError) -> Int {
        let target = path ?? settings.path
        let bytes: [UInt8] = state.withLock { state in
            evict(&state, now: MonotonicClock.now())
            state.snapshots += 1
            return snapshotBytes(state)
        }
        let temporary = target + ".tmp"
        do {
            let file = try TraceFileWriter(path: temporary, compressionLevel: level)
            try file.writeFramedChunks(bytes)
            file.close()
        } catch {
            unlink(temporary)
            // Named by the file the caller asked for, not the temporary one.
            switch error {
            case let .cannotCreate(_, reason): throw .cannotCreate(path: target, reason: reason)
            case let .writeFailed(_, reason): throw .writeFailed(path: target, reason: reason)
            case .closed: throw .closed(path: target)
            }
        }
        if rename(temporary, target) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .writeFailed(path: target, reason: reason)
        }
        return TraceLayout.headerSize + bytes.count
    }

    /// For the signal and exit paths, where nobody can catch: report on stderr.
    func writeSnapshotReportingErrors(to path: String?) {
        do {
            _ = try writeSnapshot(to: path)
        } catch {
            writeToStandardError("canceltrace: cannot write the flight recording: \(error)\n")
        }
    }

    /// The snapshot's chunks, framed, after the file header.
    private func snapshotBytes(_ state: State) -> [UInt8] {
        var out: [UInt8] = []
        if let metadata = state.metadata { out += metadata.framed }
        let kept = state.ring[state.head...]
        var framer = ChunkFramer(compressionLevel: level)
        // Strings the kept chunks may use: every string not in the metadata chunk. A kept chunk that defines a
        // string itself defines it again with the same text, which readers accept.
        if state.strings.count > state.metadataStrings {
            var encoder = EventEncoder()
            for index in state.metadataStrings..<state.strings.count {
                encoder.appendString(id: StringID(index + 1), utf8: state.strings[index])
                if encoder.bytes.count >= TraceLayout.defaultChunkRawLength {
                    framer.append(payload: encoder.bytes, to: &out)
                    encoder.startChunk()
                }
            }
            if !encoder.bytes.isEmpty { framer.append(payload: encoder.bytes, to: &out) }
        }
        for chunk in kept { out += chunk.framed }
        if !(kept.last?.hasClose ?? state.metadata?.hasClose ?? false) {
            var encoder = EventEncoder()
            encoder.append(.close(time: kept.last?.lastTime ?? state.metadata?.lastTime ?? 0))
            framer.append(payload: encoder.bytes, to: &out)
        }
        return out
    }

    /// The string definitions, last absolute time and `close` of one raw chunk payload (from our own encoder,
    /// so well formed; a malformed tail is ignored).
    static func scan(_ payload: [UInt8]) -> (strings: [(StringID, [UInt8])], lastTime: UInt64, hasClose: Bool) {
        var strings: [(StringID, [UInt8])] = []
        var time: UInt64 = 0
        var hasClose = false
        payload.withUnsafeBytes { bytes in
            var records = RecordScanner(bytes)
            while let record = try? records.next() {
                switch record {
                case let .timed(kind, delta, _):
                    time &+= delta
                    if kind == .close { hasClose = true }
                case let .string(id, text): strings.append((id, Array(bytes[text])))
                case .unknownExtension: break
                }
            }
        }
        return (strings, time, hasClose)
    }

    // MARK: SIGUSR1

    private static let handlerInstalled = Atomic<Bool>(false)

    static func installSignalHandler() {
        guard !handlerInstalled.exchange(true, ordering: .relaxed) else { return }
        var action = sigaction()
        #if os(Linux)
        action.__sigaction_handler.sa_handler = { _ in flightSnapshotRequested.store(true, ordering: .relaxed) }
        #else
        action.__sigaction_u.__sa_handler = { _ in flightSnapshotRequested.store(true, ordering: .relaxed) }
        #endif
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        sigaction(SIGUSR1, &action, nil)
    }
}
