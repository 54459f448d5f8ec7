import TraceFormat

/// Why recording could not start.
public enum CancelTraceError: Error, CustomStringConvertible, Sendable {
    /// The trace file could not be created.
    case cannotCreate(TraceWriteError)
    /// A session is already recording; `finish()` it first.
    case alreadyRecording
    /// The system would not start the background writer thread.
    case cannotStartWriterThread
    /// `record(into:)` lost its session: something called `finish()` while its body ran.
    case finishedElsewhere
    /// `writeFlightRecording()` was called while no flight recorder was running.
    case notFlightRecording
    /// This process was forked from a process that was recording: the child does not record (its parent's
    /// session, writer thread and file are the parent's), and cannot start a session of its own.
    case forkedWhileRecording

    public var description: String {
        switch self {
        case let .cannotCreate(error): "cannot start recording: \(error)"
        case .alreadyRecording: "cannot start recording: a session is already recording"
        case .cannotStartWriterThread: "cannot start recording: no thread for the trace writer"
        case .finishedElsewhere: "the recording was finished by another caller before record(into:) returned"
        case .notFlightRecording: "no flight recorder is running (start one with startFlightRecorder)"
        case .forkedWhileRecording: "cannot start recording: this process was forked while its parent was recording"
        }
    }
}
