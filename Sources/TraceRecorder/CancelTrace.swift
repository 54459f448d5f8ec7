#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import TraceFormat

/// Records the life of async tasks — spawn, cancel, cancellation caught, cleanup, rethrow, end — into a
/// CancelTrace file that `canceltrace timeline` and `canceltrace check` read.
///
/// Recording is off until `start(path:)` (or `startFromEnvironment()`); while it is off every call here costs
/// one load and a branch, and the task helpers run the plain Swift equivalents. Thread-safe throughout.
public enum CancelTrace {
    /// The environment variable `startFromEnvironment()` reads: the path of the trace to write.
    public static let outputVariable = "CANCELTRACE_OUTPUT"

    /// Whether a session is recording.
    @inlinable
    public static var isEnabled: Bool { tracingEnabled.load(ordering: .relaxed) }

    /// The traced task the caller runs in, or 0 outside any traced task (or when recording is off).
    public static var currentTaskID: TaskID { TaskRecord.current?.id ?? 0 }

    // MARK: Starting and finishing

    /// Starts recording into a new trace file at `path` (created or truncated).
    ///
    /// Call it once, early in `main`. `finish()` — or a normal process exit — writes the end of the trace.
    /// - Throws: `CancelTraceError` when the file cannot be created or a session is already recording.
    public static func start(path: String, options: Options = Options()) throws(CancelTraceError) {
        let file: TraceFileWriter
        do {
            file = try TraceFileWriter(path: path, compressionLevel: options.compressionLevel)
        } catch {
            throw .cannotCreate(error)
        }
        try Recorder.start(sink: file, options: options)
    }

    /// Starts recording into `sink` (an `InMemoryTrace`, or your own `ChunkSink`). The sink is used only from
    /// the recorder's writer thread until `finish()`.
    public static func start<Sink: ChunkSink & SendableMetatype>(
        sink: sending Sink,
        options: Options = Options()
    ) throws(CancelTraceError) {
        try Recorder.start(sink: sink, options: options)
    }

    /// Starts recording to the path in `CANCELTRACE_OUTPUT`, if it is set and not empty.
    /// - Returns: whether recording started.
    @discardableResult
    public static func startFromEnvironment(options: Options = Options()) throws(CancelTraceError) -> Bool {
        guard let value = getenv(outputVariable), value.pointee != 0 else { return false }
        try start(path: String(cString: value), options: options)
        return true
    }

    /// Writes the `close` record, flushes the last chunk and closes the trace. Events recorded after it are
    /// ignored. Safe to call when nothing is recording; also runs at normal process exit.
    public static func finish() {
        _ = Recorder.finish()
    }

    /// Records `body` into `sink` and returns the sink once the trace is closed: a whole session in one call,
    /// for tests and tools. Calls to `record` from concurrent tasks take turns instead of failing.
    public static func record<Sink: ChunkSink & SendableMetatype>(
        into sink: sending Sink,
        options: Options = Options(),
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Void
    ) async throws -> Sink {
        await RecordingTurns.shared.begin()
        do {
            try Recorder.start(sink: sink, options: options)
        } catch {
            await RecordingTurns.shared.end()
            throw error
        }
        do {
            try await body()
        } catch {
            _ = Recorder.finish()
            await RecordingTurns.shared.end()
            throw error
        }
        let finished = Recorder.finish()
        await RecordingTurns.shared.end()
        guard let sink = finished as? Sink else { throw CancelTraceError.finishedElsewhere }
        return sink
    }

    /// Records `body` into a new trace file at `path`; like `record(into:)`.
    public static func record(
        to path: String,
        options: Options = Options(),
        isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Void
    ) async throws {
        let file: TraceFileWriter
        do {
            file = try TraceFileWriter(path: path, compressionLevel: options.compressionLevel)
        } catch {
            throw CancelTraceError.cannotCreate(error)
        }
        let closed = try await record(into: file, options: options, body)
        closed.close()
    }

    // MARK: Manual events, for code with its own do/catch

    /// Records that the current task caught `error` (a `CancellationError`, or whatever error carried the
    /// cancellation). Call it first thing in the catch block.
    @inlinable
    public static func caught(_ error: any Error) {
        guard isEnabled else { return }
        recordCaught(error)
    }

    /// Records that the current task caught a `CancellationError`: for `catch is CancellationError`, which binds
    /// no error value.
    @inlinable
    public static func caught() {
        guard isEnabled else { return }
        recordCaught(CancellationError())
    }

    /// Records that the current task began cleaning up after a cancellation.
    @inlinable
    public static func cleanupBegin() {
        guard isEnabled else { return }
        recordCleanupBegin()
    }

    /// Records that the current task's cleanup finished, or threw `error`.
    @inlinable
    public static func cleanupEnd(error: (any Error)? = nil) {
        guard isEnabled else { return }
        recordCleanupEnd(error)
    }

    /// Records that the current task is re-throwing the cancellation it caught. Call it right before `throw`.
    @inlinable
    public static func rethrow() {
        guard isEnabled else { return }
        recordRethrow()
    }

    /// Says that the current task stops on purpose because it was cancelled — `guard !Task.isCancelled else
    /// { return partial }`, a `for await` loop that ended on the cancel, a poller that exits its loop — so that
    /// `check` reads its normal return as a deliberate stop, not as a cancellation it never saw. Call it on the
    /// way out. Records a `signal` (stopped) only when the task is cancelled; one branch when recording is off.
    @inlinable
    public static func stopping() {
        guard isEnabled else { return }
        recordStopping()
    }

    /// Records a labelled point in the current task's timeline.
    @inlinable
    public static func mark(_ label: String) {
        guard isEnabled else { return }
        recordMark(label)
    }

    @usableFromInline static func recordCaught(_ error: any Error) {
        Recorder.caught(error, task: TaskRecord.current)
    }
    @usableFromInline static func recordCleanupBegin() {
        Recorder.cleanupBegin(task: TaskRecord.current)
    }
    @usableFromInline static func recordCleanupEnd(_ error: (any Error)?) {
        Recorder.cleanupEnd(task: TaskRecord.current, error: error)
    }
    @usableFromInline static func recordRethrow() {
        Recorder.rethrow(task: TaskRecord.current)
    }
    @usableFromInline static func recordStopping() {
        guard Task.isCancelled else { return }
        Recorder.signal(.stopped, task: TaskRecord.current)
    }
    @usableFromInline static func recordMark(_ label: String) {
        Recorder.mark(label, task: TaskRecord.current)
    }
}

/// Lets `CancelTrace.record` calls from concurrent tasks (parallel tests) take turns on the one recorder.
actor RecordingTurns {
    static let shared = RecordingTurns()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func begin() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func end() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
