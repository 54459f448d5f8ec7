#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TraceFormat

/// The background thread that compresses and writes chunks, so that the app's threads never do.
///
/// It writes queued chunks in order and, when nothing arrived for a flush interval, takes the session's partial
/// chunk too, so that a process killed at any moment loses at most one interval of events. The first write error
/// stops recording and is reported once on stderr.
final class ChunkWriter: @unchecked Sendable {
    let queue: ChunkQueue
    private let flushInterval: UInt64
    // Owned by the writer thread between `launch()` and `join()`.
    private var sink: any ChunkSink
    private var failed = false
    private var thread: pthread_t?

    init(sink: sending any ChunkSink, queue: ChunkQueue, flushIntervalNanoseconds: UInt64) {
        self.sink = sink
        self.queue = queue
        self.flushInterval = max(1_000_000, flushIntervalNanoseconds)
    }

    /// Starts the thread. Returns false when the system would not create one.
    func launch() -> Bool {
        let context = Unmanaged.passRetained(self).toOpaque()
        #if os(Linux)
        var handle = pthread_t()
        #else
        var handle: pthread_t?
        #endif
        let status = pthread_create(&handle, nil, { context in
            let writer = Unmanaged<ChunkWriter>.fromOpaque(context!).takeRetainedValue()
            // Past a file-size limit (`ulimit -f`) the kernel sends SIGXFSZ to the writing thread, and its default
            // action kills the app. Blocked here, it stays pending on this thread only and the write fails with
            // EFBIG, which stops the recording with one line like any other write error.
            var signals = sigset_t()
            sigemptyset(&signals)
            sigaddset(&signals, SIGXFSZ)
            pthread_sigmask(SIG_BLOCK, &signals, nil)
            writer.run()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<ChunkWriter>.fromOpaque(context).release()
            return false
        }
        thread = handle
        return true
    }

    /// Drains the queue, stops the thread and hands back the sink.
    func join() -> any ChunkSink {
        queue.stop()
        if let thread { pthread_join(thread, nil) }
        thread = nil
        return sink
    }

    private func run() {
        var deadline = MonotonicClock.now() &+ flushInterval
        while true {
            switch queue.next(deadline: deadline) {
            case .chunk(var encoder):
                write(encoder.bytes)
                encoder.startChunk()
                queue.recycle(encoder)
            case .deadlinePassed:
                // The lock is only tried: a recording thread that holds it may be waiting for this thread to make
                // room in the queue. Retry soon when it is busy.
                let flushed = Recorder.flushPartialChunk()
                deadline = MonotonicClock.now() &+ (flushed ? flushInterval : 1_000_000)
            case .stopped:
                return
            }
            if flightSnapshotRequested.load(ordering: .relaxed) { writeRequestedSnapshot() }
        }
    }

    /// SIGUSR1 asked for a flight-recorder snapshot: take the partial chunk, write what is queued, then snapshot.
    private func writeRequestedSnapshot() {
        flightSnapshotRequested.store(false, ordering: .relaxed)
        guard let ring = sink as? FlightRing else { return }
        _ = Recorder.flushPartialChunk()
        while case .chunk(var encoder) = queue.next(deadline: 0) {
            write(encoder.bytes)
            encoder.startChunk()
            queue.recycle(encoder)
        }
        ring.writeSnapshotReportingErrors(to: nil)
    }

    private func write(_ payload: [UInt8]) {
        guard !failed else { return }
        do {
            try sink.writeChunk(payload)
        } catch {
            failed = true
            tracingEnabled.store(false, ordering: .relaxed)
            let message = "canceltrace: recording stopped: \(error)\n"
            writeToStandardError(message)
        }
    }
}

/// Writes `message` to file descriptor 2 without going through a shared `FILE`.
func writeToStandardError(_ message: String) {
    _ = message.utf8CString.withUnsafeBufferPointer { text in
        #if canImport(Glibc)
        Glibc.write(2, text.baseAddress, text.count - 1)
        #else
        Darwin.write(2, text.baseAddress, text.count - 1)
        #endif
    }
}
