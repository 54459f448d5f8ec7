#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TraceFormat

/// Whether a session is recording. Every entry point loads it first and returns when it is false, so a
/// disabled recorder costs one predictable branch. Relaxed: it is a hint, `Recorder.liveSession` is the truth.
@usableFromInline
let tracingEnabled = Atomic<Bool>(false)

/// The process-wide recording session and the writer behind it.
///
/// Events take no lock: each thread appends to its own ring (`EventBuffer`) and the writer thread merges them
/// by time (`ChunkWriter`). The lock here is only for starting and finishing a session and for a thread's first
/// event in a session, which registers its ring.
enum Recorder {
    struct State: ~Copyable {
        var session: LiveSession?
        var writer: ChunkWriter?
        /// The flight recorder's ring when the session records into one.
        var flight: FlightRing?
    }

    static let state = Mutex(State(session: nil, writer: nil, flight: nil))
    /// The last session number handed out.
    private static let sessionNumbers = Atomic<UInt64>(0)
    /// The number of the live session, 0 when none: what a thread's buffer checks its session against.
    static let liveSession = Atomic<UInt64>(0)
    private static let exitHookInstalled = Atomic<Bool>(false)
    /// Whether a session is open (set and cleared under the lock): what a fork child checks.
    private static let sessionOpen = Atomic<Bool>(false)
    /// Set in a child forked while a session was open. The child has no writer thread: it stops recording.
    private static let forkedWhileRecording = Atomic<Bool>(false)

    static let recorderName = "CancelTrace.TraceRecorder"
    static let recorderVersion = CancelTraceVersion.current

    /// A new ring for the calling thread in the live session, or nil when none is live.
    static func registerBuffer() -> EventBuffer? {
        if forkedWhileRecording.load(ordering: .relaxed) { return nil }
        return state.withLock { state in
            guard let session = state.session, liveSession.load(ordering: .relaxed) == session.number else { return nil }
            let buffer = EventBuffer(session: session)
            session.register(buffer)
            return buffer
        }
    }

    // MARK: Starting and stopping

    /// Throws `.alreadyRecording` when a session records now (checked again by `start`), or
    /// `.forkedWhileRecording` in a fork child of a recording process.
    static func refuseIfRecording() throws(CancelTraceError) {
        if forkedWhileRecording.load(ordering: .relaxed) { throw .forkedWhileRecording }
        if sessionOpen.load(ordering: .relaxed) { throw .alreadyRecording }
    }

    static func start(sink: sending any ChunkSink, options: CancelTrace.Options,
                      flight: FlightRing? = nil) throws(CancelTraceError) {
        if forkedWhileRecording.load(ordering: .relaxed) { throw .forkedWhileRecording }
        // A refused start uses up a number; numbers only need to differ.
        let number = sessionNumbers.add(1, ordering: .relaxed).newValue
        let clock = EventClock()
        let session = LiveSession(number: number, options: options, usesCycles: clock.usesCycles)
        let writer = ChunkWriter(sink: sink, live: session, clock: clock, chunkSize: options.chunkSize,
                                 flushIntervalNanoseconds: nanoseconds(options.flushInterval),
                                 info: info())
        try state.withLock { (state) throws(CancelTraceError) in
            guard state.session == nil else { throw .alreadyRecording }
            // Live before the writer runs: a failed first write turns recording off from the writer thread, and
            // that must come after this, or a session whose first write failed would stay on.
            liveSession.store(number, ordering: .sequentiallyConsistent)
            tracingEnabled.store(true, ordering: .relaxed)
            guard writer.launch() else {
                tracingEnabled.store(false, ordering: .relaxed)
                liveSession.store(0, ordering: .sequentiallyConsistent)
                throw .cannotStartWriterThread
            }
            state.session = session
            state.writer = writer
            state.flight = flight
            sessionOpen.store(true, ordering: .relaxed)
        }
        if !exitHookInstalled.exchange(true, ordering: .relaxed) {
            atexit { _ = Recorder.finish() }
            pthread_atfork(nil, nil) {
                // Async-signal-safe: atomic stores. The parent's session goes on untouched.
                if Recorder.sessionOpen.load(ordering: .relaxed) {
                    Recorder.forkedWhileRecording.store(true, ordering: .relaxed)
                    tracingEnabled.store(false, ordering: .relaxed)
                    Recorder.liveSession.store(0, ordering: .relaxed)
                }
            }
        }
    }

    /// Ends the session: no thread records into it once this returns from waiting for the ones in the middle of
    /// an event; the writer writes the rest, the `close` record, and stops. Returns the sink, or nil when
    /// nothing was recording.
    static func finish() -> (any ChunkSink)? {
        tracingEnabled.store(false, ordering: .relaxed)
        if forkedWhileRecording.load(ordering: .relaxed) { return nil }
        let (session, writer, flight): (LiveSession?, ChunkWriter?, FlightRing?) = state.withLock { state in
            guard let session = state.session else { return (nil, nil, nil) }
            liveSession.store(0, ordering: .sequentiallyConsistent)
            state.session = nil
            sessionOpen.store(false, ordering: .relaxed)
            defer {
                state.writer = nil
                state.flight = nil
            }
            return (session, state.writer, state.flight)
        }
        guard let session, let writer else { return nil }
        // A thread that set `busy` before the number was cleared may still publish its event; one that sets it
        // after sees the number cleared and records nothing.
        for buffer in session.allBuffers {
            while buffer.busy.load(ordering: .sequentiallyConsistent) { sched_yield() }
        }
        let sink = writer.join()
        if let flight, flight.settings.writeAtExit { flight.writeSnapshotReportingErrors(to: nil) }
        return sink
    }

    /// Waits until the writer has written everything recorded so far, the partial chunk included, into the
    /// flight recorder's ring. Nil when no flight recorder is running.
    static func flushToFlightRing() -> FlightRing? {
        if forkedWhileRecording.load(ordering: .relaxed) { return nil }
        let found: (FlightRing, LiveSession)? = state.withLock { state in
            guard let session = state.session, let flight = state.flight else { return nil }
            return (flight, session)
        }
        guard let (flight, session) = found else { return nil }
        session.flushAndWait()
        return flight
    }

    /// Waits until the writer has written (or failed to write) everything recorded so far. For tests.
    static func waitForWriter() {
        let session = state.withLock { $0.session }
        session?.flushAndWait()
    }

    /// The metadata items; the session's time 0 is now, give or take the writer's start.
    private static func info() -> [(key: String, value: String)] {
        let process = CommandLine.arguments.first.map { path in
            String(path.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(path))
        } ?? ""
        return [
            (TraceInfo.Key.runtime, "swift"),
            (TraceInfo.Key.recorder, recorderName),
            (TraceInfo.Key.recorderVersion, recorderVersion),
            (TraceInfo.Key.pid, String(getpid())),
            (TraceInfo.Key.process, process),
            (TraceInfo.Key.wallClockStartNs, String(MonotonicClock.wallClockNow())),
            (TraceInfo.Key.clockResolutionNs, String(MonotonicClock.resolution())),
        ]
    }

    static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    // MARK: Events
    //
    // Tasks come as `TaskRef`s (the current task) or `TaskRecord`s (a cancel's or end's target) and are resolved
    // against the recording session (`LiveSession.id(of:)`, `owns`): a task that outlived the session
    // it was spawned in (or one from before a restart) must not write its id into another session.

    /// Records a spawn (named `name`, or after its call site when nil); returns the new task's id, the number
    /// of the session that recorded it and the parent's id in it.
    static func spawn(name: String?, site: CallSite, how: SpawnKind,
                      parent: TaskRef?) -> (id: TaskID, session: UInt64, parent: TaskID)? {
        ThreadBuffers.withCurrent { buffer -> (id: TaskID, session: UInt64, parent: TaskID) in
            let session = buffer.session
            let siteIDs = buffer.site(site)
            let nameID = name.map { buffer.string($0) } ?? siteIDs.name
            let task = session.nextTaskID.wrappingAdd(1, ordering: .relaxed).oldValue
            let parentID = session.id(of: parent)
            // One entry; the writer writes it as the spawn and its site.
            buffer.record(TraceEvent(kind: .spawn, time: 0, fields: (
                task, parentID, nameID, UInt64(how.rawValue) | siteIDs.location << 8)))
            return (task, session.number, parentID)
        }
    }

    static func caught(_ error: any Error, task: TaskRef?) {
        ThreadBuffers.withCurrent { buffer in
            let type = buffer.typeName(of: error)
            buffer.record(.caught(time: 0, task: buffer.session.id(of: task), error: type))
        }
    }

    static func cleanupBegin(task: TaskRef?) {
        ThreadBuffers.withCurrent { buffer in buffer.record(.cleanupBegin(time: 0, task: buffer.session.id(of: task))) }
    }

    static func cleanupEnd(task: TaskRef?, error: (any Error)?) {
        ThreadBuffers.withCurrent { buffer in
            let id = buffer.session.id(of: task)
            if let error {
                buffer.record(.cleanupEnd(time: 0, task: id, result: .threw, error: buffer.typeName(of: error)))
            } else {
                buffer.record(.cleanupEnd(time: 0, task: id, result: .ok))
            }
        }
    }

    static func rethrow(task: TaskRef?) {
        ThreadBuffers.withCurrent { buffer in buffer.record(.rethrow(time: 0, task: buffer.session.id(of: task))) }
    }

    static func signal(_ what: CancellationSignal, task: TaskRef?) {
        ThreadBuffers.withCurrent { buffer in
            buffer.record(.signal(time: 0, task: buffer.session.id(of: task), what: what))
        }
    }

    static func mark(_ label: String, task: TaskRef?) {
        ThreadBuffers.withCurrent { buffer in
            let labelID = buffer.string(label)
            buffer.record(.mark(time: 0, task: buffer.session.id(of: task), label: labelID))
        }
    }

    /// Records a cancel of `task`, unless it belongs to another session, a cancel was already recorded or the
    /// task has ended. Returns whether it recorded one.
    static func cancel(task: TaskRecord, by: TaskRef?, reason: CancelReason) -> Bool {
        guard !task.cancelRecordedOrEnded else { return false }
        return ThreadBuffers.withCurrent { buffer -> Bool in
            guard buffer.session.owns(task) else { return false }
            return buffer.recordCancel(of: task, by: buffer.session.id(of: by), reason: reason)
        } ?? false
    }

    /// `cancel(task:by:reason:)` with the canceller given by its id in `task`'s session.
    @discardableResult
    static func cancel(task: TaskRecord, byID: TaskID, reason: CancelReason) -> Bool {
        guard !task.cancelRecordedOrEnded else { return false }
        return ThreadBuffers.withCurrent { buffer -> Bool in
            guard buffer.session.owns(task) else { return false }
            return buffer.recordCancel(of: task, by: byID, reason: reason)
        } ?? false
    }

    /// Records the end of `task` once, unless it belongs to another session.
    static func end(task: TaskRecord, error: (any Error)?) {
        guard !task.isEnded else { return }
        ThreadBuffers.withCurrent { buffer in
            guard buffer.session.owns(task) else { return }
            switch error {
            case nil:
                buffer.recordEnd(of: task, outcome: .returned, error: 0)
            case let error? where error is CancellationError:
                buffer.recordEnd(of: task, outcome: .cancelled, error: buffer.typeName(of: error))
            case let error?:
                buffer.recordEnd(of: task, outcome: .failed, error: buffer.typeName(of: error))
            }
        }
    }
}
