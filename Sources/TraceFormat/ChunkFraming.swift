/// Where finished chunk payloads go: a file, or memory.
public protocol ChunkSink {
    /// Frames and stores one chunk payload (records from an `EventEncoder`).
    mutating func writeChunk(_ payload: [UInt8]) throws
}

/// Frames chunks: marker, compressed length, raw length, CRC-32, zlib payload. The one place that writes them
/// (`TraceFileWriter`, `InMemoryTrace` and the flight recorder's ring all frame through it); `ChunkReader` checks
/// the same CRC with `crc(_:)`.
public struct ChunkFramer: Sendable {
    private let level: Int32
    /// Compressed bytes of the last chunk: storage reused from chunk to chunk.
    private var compressed: [UInt8] = []

    /// - Parameter compressionLevel: zlib level 1 (fastest) … 9 (smallest).
    public init(compressionLevel: Int32) { level = compressionLevel }

    /// Appends `payload` to `output` as one framed chunk.
    public mutating func append(payload: [UInt8], to output: inout [UInt8]) {
        precondition(payload.count <= TraceLayout.maxChunkRawLength, "chunk payload over the format's limit")
        payload.withUnsafeBytes { Zlib.compress($0, level: level, into: &compressed) }
        let start = output.count
        output.append(contentsOf: TraceLayout.chunkMarker)
        output.appendLittleEndian(UInt32(compressed.count))
        output.appendLittleEndian(UInt32(payload.count))
        output.appendLittleEndian(0)  // the CRC, set once the payload is in place
        output.append(contentsOf: compressed)
        let crc = output.withUnsafeBytes { Self.crc(UnsafeRawBufferPointer(rebasing: $0[start...])) }
        for i in 0..<4 { output[start + 12 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
    }

    /// The CRC-32 a framed chunk (`chunk`, from its marker to the end of its payload) should store.
    public static func crc(_ chunk: UnsafeRawBufferPointer) -> UInt32 {
        let lengths = UnsafeRawBufferPointer(rebasing: chunk[4..<12])
        let body = UnsafeRawBufferPointer(rebasing: chunk[TraceLayout.chunkHeaderSize...])
        return Zlib.crc32(body, continuing: Zlib.crc32(lengths))
    }
}

/// A whole trace file held in memory: for tests, fuzz seeds and shared test vectors.
public struct InMemoryTrace: ChunkSink, Sendable {
    public private(set) var bytes: [UInt8] = TraceLayout.header
    private var framer: ChunkFramer

    public init(compressionLevel: Int32 = 6) { framer = ChunkFramer(compressionLevel: compressionLevel) }

    public mutating func writeChunk(_ payload: [UInt8]) {
        guard !payload.isEmpty else { return }
        framer.append(payload: payload, to: &bytes)
    }
}
/// Writes a trace in order from a single thread: strings interned on first use, chunks cut at a size.
/// Tests, the synthetic-trace generator and the demo use it; the recorder does the same with its own buffers.
public struct TraceBuilder<Sink: ChunkSink> {
    public private(set) var sink: Sink
    private var encoder = EventEncoder()
    private var interned: [String: StringID] = [:]
    private let chunkSize: Int
    /// Events appended so far (string definitions not counted).
    public private(set) var eventCount = 0

    public init(sink: Sink, chunkSize: Int = TraceLayout.defaultChunkRawLength) {
        self.sink = sink
        self.chunkSize = chunkSize
    }

    /// The id of `text`, defining it in the current chunk the first time it is seen.
    public mutating func string(_ text: String) -> StringID {
        if text.isEmpty { return 0 }
        if let id = interned[text] { return id }
        let id = StringID(interned.count + 1)
        interned[text] = id
        encoder.appendString(id: id, utf8: text.utf8)
        return id
    }

    /// Appends metadata items as `info` records at time 0.
    public mutating func info(_ items: [(key: String, value: String)]) throws {
        for (key, value) in items {
            try append(.info(time: 0, key: string(key), value: string(value)))
        }
    }

    public mutating func append(_ event: TraceEvent) throws {
        encoder.append(event)
        eventCount += 1
        if encoder.bytes.count >= chunkSize { try flush() }
    }

    /// Writes the current chunk, if it has anything.
    public mutating func flush() throws {
        guard !encoder.bytes.isEmpty else { return }
        try sink.writeChunk(encoder.bytes)
        encoder.startChunk()
    }

    /// Appends the `close` record at `time` and writes the last chunk.
    public mutating func close(time: UInt64) throws {
        try append(.close(time: time))
        try flush()
    }
}
