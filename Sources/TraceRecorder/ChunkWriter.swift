#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCycleCounter
import Synchronization
import TraceFormat

/// The background thread that merges the recording threads' rings by time, encodes, compresses and writes,
/// so that the app's threads only store raw events.
///
/// It wakes every flush interval (or when a ring is half full, or on a flush request), takes every event that
/// can no longer be preceded by one still being recorded (the horizon, see `EventBuffer`), merges them in stamp
/// order into the current chunk, and writes each full chunk. At each flush interval it also writes the partial
/// chunk, so that a process killed at any moment loses at most about one interval of events. The first write
/// error stops recording and is reported once on stderr; the rings are still drained, so no thread waits.
final class ChunkWriter: @unchecked Sendable {
    let live: LiveSession
    private let flushInterval: UInt64
    // Owned by the writer thread between `launch()` and `join()`.
    private var session: Session
    private var sink: any ChunkSink
    private var failed = false
    private var thread: pthread_t?
    private var buffers: [EventBuffer] = []
    private var buffersGeneration = -1
    private var cursors: [Cursor] = []
    private var flushesAcknowledged = 0
    private var info: [(key: String, value: String)]

    private struct Cursor {
        let buffer: EventBuffer
        var next: Int
        var end: Int
    }

    init(sink: sending any ChunkSink, live: LiveSession, clock: EventClock, chunkSize: Int,
         flushIntervalNanoseconds: UInt64, info: [(key: String, value: String)]) {
        self.sink = sink
        self.live = live
        self.session = Session(strings: live.strings, chunkSize: chunkSize, clock: clock)
        self.flushInterval = max(1_000_000, flushIntervalNanoseconds)
        self.info = info
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

    /// Writes everything recorded, the `close` record and the last chunk, stops the thread and hands back the
    /// sink. The caller has made sure no thread is recording into the session any more.
    func join() -> any ChunkSink {
        live.stop()
        if let thread { pthread_join(thread, nil) }
        thread = nil
        return sink
    }

    private func run() {
        // The metadata goes out as the first chunk on its own (the flight recorder keeps it pinned).
        for (key, value) in info {
            session.appendNow(.info(time: 0, key: live.strings.id(of: key), value: live.strings.id(of: value)))
        }
        info = []
        writeChunk()
        var deadline = MonotonicClock.now() &+ flushInterval
        while true {
            let work = live.waitForWork(deadline: deadline)
            if work.stop {
                drain(horizon: .max)
                session.appendNow(.close(time: 0))
                writeChunk()
                live.flushed(upTo: work.flushes)
                return
            }
            drain(horizon: horizon())
            let now = MonotonicClock.now()
            if now >= deadline || work.flushes > flushesAcknowledged {
                writeChunk()
                deadline = now &+ flushInterval
            }
            flushesAcknowledged = work.flushes
            live.flushed(upTo: work.flushes)
            if flightSnapshotRequested.load(ordering: .relaxed) { writeRequestedSnapshot() }
        }
    }

    /// The latest stamp up to which no event can still arrive: the writer's own clock reading, held back to the
    /// last published stamp of any thread caught in the middle of recording one.
    private func horizon() -> UInt64 {
        refreshBuffers()
        let now = EventClock.stamp(usesCycles: live.usesCycles)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        var horizon = now
        for buffer in buffers {
            var spins = 0
            while buffer.busy.load(ordering: .sequentiallyConsistent) {
                // Nearly always a few nanoseconds; a thread descheduled inside the window holds back only
                // what is later than its own last event.
                if spins == 1_000 {
                    horizon = min(horizon, buffer.floorStamp(head: buffer.head.load(ordering: .acquiring)))
                    break
                }
                cancel_trace_spin_pause()
                spins += 1
            }
        }
        return horizon
    }

    private func refreshBuffers() {
        let generation = live.buffersGeneration.load(ordering: .acquiring)
        guard generation != buffersGeneration else { return }
        buffers = live.allBuffers
        buffersGeneration = generation
    }

    /// Merges every published event with a stamp up to `horizon` into the session, oldest first.
    private func drain(horizon: UInt64) {
        refreshBuffers()
        cursors.removeAll(keepingCapacity: true)
        var gone: [EventBuffer] = []
        for buffer in buffers {
            let exited = buffer.exited.load(ordering: .acquiring)
            let tail = buffer.tail.load(ordering: .relaxed)
            let head = buffer.head.load(ordering: .acquiring)
            let dropped = buffer.dropped.load(ordering: .relaxed)
            if dropped != buffer.reportedDrops {
                session.appendNow(.dropped(time: 0, count: dropped &- buffer.reportedDrops))
                buffer.reportedDrops = dropped
            }
            if head != tail {
                cursors.append(Cursor(buffer: buffer, next: tail, end: head))
            } else if exited {
                gone.append(buffer)
            }
        }
        while true {
            // The cursor with the oldest next event, and the oldest next event of any other one.
            var best = -1
            var bestTime = UInt64.max
            var second = UInt64.max
            for index in cursors.indices where cursors[index].next < cursors[index].end {
                let time = cursors[index].buffer.entry(cursors[index].next).time
                if time < bestTime {
                    second = bestTime
                    bestTime = time
                    best = index
                } else if time < second {
                    second = time
                }
            }
            guard best >= 0, bestTime <= horizon else { break }
            // Take that thread's run of events up to the next thread's oldest (at least one).
            let limit = min(second, horizon)
            var cursor = cursors[best]
            repeat {
                session.append(stamped: cursor.buffer.entry(cursor.next))
                cursor.next += 1
                if session.isChunkFull { writeChunk() }
            } while cursor.next < cursor.end && cursor.buffer.entry(cursor.next).time <= limit
            cursor.buffer.tail.store(cursor.next, ordering: .releasing)
            cursors[best] = cursor
        }
        live.remove(gone)
    }

    /// Hands the current chunk to the sink (after a write error: discards it).
    private func writeChunk() {
        guard !session.isChunkEmpty else { return }
        if !failed {
            do {
                try sink.writeChunk(session.encoder.bytes)
            } catch {
                failed = true
                tracingEnabled.store(false, ordering: .relaxed)
                writeToStandardError("canceltrace: recording stopped: \(error)\n")
            }
        }
        session.chunkWritten()
    }

    /// SIGUSR1 asked for a flight-recorder snapshot: write what was recorded so far, then snapshot.
    private func writeRequestedSnapshot() {
        flightSnapshotRequested.store(false, ordering: .relaxed)
        guard let ring = sink as? FlightRing else { return }
        drain(horizon: horizon())
        writeChunk()
        ring.writeSnapshotReportingErrors(to: nil)
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
