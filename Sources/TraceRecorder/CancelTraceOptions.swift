import TraceFormat

extension CancelTrace {
    /// How a recording session buffers and writes.
    public struct Options: Sendable {
        /// What a recording thread does when its own buffer is full: the writer has not yet taken its events.
        public enum WriterPolicy: Sendable {
            /// Wait until the writer has room: no event is lost, the app slows down to the writer's pace.
            case block
            /// Discard the event and go on: the app never waits, and the trace says how many events were
            /// lost with a `dropped` record.
            case drop
        }

        /// What happens when the app records faster than the writer can compress and write. Default `.block`.
        public var whenWriterFallsBehind: WriterPolicy
        /// Raw bytes at which a chunk is handed to the writer. Default 64 KiB.
        public var chunkSize: Int
        /// How often the writer also writes a partial chunk; a process killed at any moment loses at most about
        /// this much. Default 100 ms.
        public var flushInterval: Duration
        /// Sizes each recording thread's buffer: `maxPendingChunks × chunkSize / 32` events (16,384 by default)
        /// may wait for the writer before `whenWriterFallsBehind` applies. Default 8.
        public var maxPendingChunks: Int
        /// zlib level 1 (fastest) … 9 (smallest) for `start(path:)` and the flight recorder. Default 1: on task
        /// churn it costs the writer thread about a quarter of level 6's CPU and the trace comes out no larger
        /// (both about 3 bytes per event; Docs/Performance.md, "Issue 16, round three").
        public var compressionLevel: Int32

        public init(
            whenWriterFallsBehind: WriterPolicy = .block,
            chunkSize: Int = TraceLayout.defaultChunkRawLength,
            flushInterval: Duration = .milliseconds(100),
            maxPendingChunks: Int = 8,
            compressionLevel: Int32 = 1
        ) {
            self.whenWriterFallsBehind = whenWriterFallsBehind
            self.chunkSize = chunkSize
            self.flushInterval = flushInterval
            self.maxPendingChunks = maxPendingChunks
            self.compressionLevel = compressionLevel
        }
    }
}
