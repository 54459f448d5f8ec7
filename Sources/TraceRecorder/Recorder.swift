#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TraceFormat

/// Whether a session is recording. Every entry point loads it first and returns when it is false, so a
/// disabled recorder costs one predictable branch. Relaxed: it is a hint, the session lock is the truth.
@usableFromInline
let tracingEnabled = Atomic<Bool>(false)

/// The process-wide recording session and the writer behind it.
enum Recorder {
    struct State: ~Copyable {
        var session: Session?
        var writer: ChunkWriter?
        /// The flight recorder's ring when the session records into one.
        var flight: FlightRing?
        /// Sessions started so far in this process: the number of the live one.
        var sessionsStarted: UInt64 = 0
    }

    static let state = SessionLock(State(session: nil, writer: nil, flight: nil))
    private static let exitHookInstalled = Atomic<Bool>(false)

    static let recorderName = "CancelTrace.TraceRecorder"
    static let recorderVersion = CancelTraceVersion.current

    /// Runs `body` on the live session, if there is one.
    @inline(__always)
    static func withSession(_ body: (inout Session) -> Void) {
        state.withLock { state in
            if state.session != nil { body(&state.session!) }
        }
    }

    // MARK: Starting and stopping

    static func start(sink: sending any ChunkSink, options: CancelTrace.Options,
                      flight: FlightRing? = nil) throws(CancelTraceError) {
        let queue = ChunkQueue(capacity: options.maxPendingChunks, chunkSize: options.chunkSize)
        let writer = ChunkWriter(sink: sink, queue: queue,
                                 flushIntervalNanoseconds: nanoseconds(options.flushInterval))
        try state.withLock { (state) throws(CancelTraceError) in
            guard state.session == nil else { throw .alreadyRecording }
            guard writer.launch() else { throw .cannotStartWriterThread }
            state.sessionsStarted += 1
            var session = Session(queue: queue, options: options, number: state.sessionsStarted)
            writeInfo(into: &session)
            // On before the first chunk reaches the writer: a write error turns recording off from the writer
            // thread, and that must come after this, or a session whose first write failed would stay on.
            tracingEnabled.store(true, ordering: .relaxed)
            // The metadata goes out at once, whatever the drop policy: a trace without it is hard to read.
            session.finishChunk(mustKeep: true)
            state.session = session
            state.writer = writer
            state.flight = flight
        }
        if !exitHookInstalled.exchange(true, ordering: .relaxed) {
            atexit { _ = Recorder.finish() }
        }
    }

    /// Writes the `close` record, drains the writer and returns the sink, or nil when nothing was recording.
    static func finish() -> (any ChunkSink)? {
        tracingEnabled.store(false, ordering: .relaxed)
        let (writer, flight): (ChunkWriter?, FlightRing?) = state.withLock { state in
            guard state.session != nil else { return (nil, nil) }
            state.session!.close()
            state.session = nil
            defer {
                state.writer = nil
                state.flight = nil
            }
            return (state.writer, state.flight)
        }
        let sink = writer?.join()
        if let flight, flight.settings.writeAtExit { flight.writeSnapshotReportingErrors(to: nil) }
        return sink
    }

    /// Hands the partial chunk to the writer and waits until it and everything before it reached the flight
    /// recorder's ring. Nil when no flight recorder is running.
    static func flushToFlightRing() -> FlightRing? {
        let found: (FlightRing, ChunkQueue)? = state.withLock { state in
            guard state.session != nil, let flight = state.flight else { return nil }
            state.session!.finishChunk(mustKeep: true)
            return (flight, state.session!.queue)
        }
        guard let (flight, queue) = found else { return nil }
        queue.waitUntilWritten()
        return flight
    }

    /// Waits until the writer has written (or failed to write) every chunk handed to it so far. For tests.
    static func waitForWriter() {
        let queue = state.withLock { $0.session?.queue }
        queue?.waitUntilWritten()
    }

    /// Called by the writer thread every flush interval. Returns false when the lock was busy.
    static func flushPartialChunk() -> Bool {
        let done: Bool? = state.withLockIfAvailable { state in
            state.session?.flushIfRoom()
            return true
        }
        return done ?? false
    }

    private static func writeInfo(into session: inout Session) {
        let process = CommandLine.arguments.first.map { path in
            String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(path))
        } ?? ""
        let items: [(String, String)] = [
            (TraceInfo.Key.runtime, "swift"),
            (TraceInfo.Key.recorder, recorderName),
            (TraceInfo.Key.recorderVersion, recorderVersion),
            (TraceInfo.Key.pid, String(getpid())),
            (TraceInfo.Key.process, process),
            (TraceInfo.Key.wallClockStartNs, String(MonotonicClock.wallClockNow() &- session.now())),
            (TraceInfo.Key.clockResolutionNs, String(MonotonicClock.resolution())),
        ]
        for (key, value) in items {
            let keyID = session.string(key)
            let valueID = session.string(value)
            session.append(.info(time: 0, key: keyID, value: valueID))
        }
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    // MARK: Events
    //
    // Tasks come as `TaskRecord`s and are resolved under the lock with `Session.id(of:)`: a task that outlived the
    // session it was spawned in (or one from before a restart) must not write its id into another session.

    /// Records a spawn (named `name`, or after its call site when nil); returns the new task's id and the number
    /// of the session that recorded it.
    static func spawn(name: String?, site: CallSite, how: SpawnKind,
                      parent: TaskRecord?) -> (id: TaskID, session: UInt64)? {
        var spawned: (TaskID, UInt64)?
        withSession { session in
            let siteIDs = session.site(site)
            let nameID = name.map { session.string($0) } ?? siteIDs.name
            let task = session.allocateTaskID()
            let time = session.now()
            session.append(.spawn(time: time, task: task, parent: session.id(of: parent), name: nameID, how: how))
            session.append(.site(time: time, task: task, location: siteIDs.location))
            spawned = (task, session.number)
        }
        return spawned
    }

    static func caught(_ error: any Error, task: TaskRecord?) {
        withSession { session in
            let type = session.typeName(of: error)
            session.append(.caught(time: session.now(), task: session.id(of: task), error: type))
        }
    }

    static func cleanupBegin(task: TaskRecord?) {
        withSession { session in session.append(.cleanupBegin(time: session.now(), task: session.id(of: task))) }
    }

    static func cleanupEnd(task: TaskRecord?, error: (any Error)?) {
        withSession { session in
            let id = session.id(of: task)
            if let error {
                let type = session.typeName(of: error)
                session.append(.cleanupEnd(time: session.now(), task: id, result: .threw, error: type))
            } else {
                session.append(.cleanupEnd(time: session.now(), task: id, result: .ok))
            }
        }
    }

    static func rethrow(task: TaskRecord?) {
        withSession { session in session.append(.rethrow(time: session.now(), task: session.id(of: task))) }
    }

    static func signal(_ what: CancellationSignal, task: TaskRecord?) {
        withSession { session in session.append(.signal(time: session.now(), task: session.id(of: task), what: what)) }
    }

    static func mark(_ label: String, task: TaskRecord?) {
        withSession { session in
            let labelID = session.string(label)
            session.append(.mark(time: session.now(), task: session.id(of: task), label: labelID))
        }
    }

    /// Records a cancel of `task`, unless it belongs to another session, a cancel was already recorded or the
    /// task has ended. Returns whether it recorded one.
    static func cancel(task: TaskRecord, by: TaskRecord?, reason: CancelReason) -> Bool {
        var recorded = false
        withSession { session in
            guard session.owns(task), !task.cancelRecorded, !task.ended else { return }
            task.cancelRecorded = true
            session.append(.cancel(time: session.now(), task: task.id, by: session.id(of: by), reason: reason))
            recorded = true
        }
        return recorded
    }

    /// Records the end of `task` once, unless it belongs to another session.
    static func end(task: TaskRecord, error: (any Error)?) {
        withSession { session in
            guard session.owns(task), !task.ended else { return }
            task.ended = true
            switch error {
            case nil:
                session.append(.end(time: session.now(), task: task.id, outcome: .returned))
            case let error? where error is CancellationError:
                let type = session.typeName(of: error)
                session.append(.end(time: session.now(), task: task.id, outcome: .cancelled, error: type))
            case let error?:
                let type = session.typeName(of: error)
                session.append(.end(time: session.now(), task: task.id, outcome: .failed, error: type))
            }
        }
    }
}
