/// Where finished chunk payloads go: a file, or memory.
public protocol ChunkSink {
    /// Frames and stores one chunk payload (records from an `EventEncoder`).
    mutating func writeChunk(_ payload: [UInt8]) throws
}

/// Frames a chunk: marker, compressed length, raw length, CRC-32, zlib payload. The one place that writes them.
enum ChunkFraming {
    static func append(payload: [UInt8], level: Int32, to output: inout [UInt8], scratch compressed: inout [UInt8]) {
        precondition(payload.count <= TraceLayout.maxChunkRawLength, "chunk payload over the format's limit")
        payload.withUnsafeBytes { Zlib.compress($0, level: level, into: &compressed) }
        let start = output.count
        output.append(contentsOf: TraceLayout.chunkMarker)
        output.appendLittleEndian(UInt32(compressed.count))
        output.appendLittleEndian(UInt32(payload.count))
        var crc = output.withUnsafeBytes { Zlib.crc32(UnsafeRawBufferPointer(rebasing: $0[start + 4..<start + 12])) }
        crc = compressed.withUnsafeBytes { Zlib.crc32($0, continuing: crc) }
        output.appendLittleEndian(crc)
        output.append(contentsOf: compressed)
    }
}

/// A whole trace file held in memory: for tests, fuzz seeds and shared test vectors.
public struct InMemoryTrace: ChunkSink, Sendable {
    public private(set) var bytes: [UInt8] = TraceLayout.header
    private var scratch: [UInt8] = []
    private let level: Int32

    public init(compressionLevel: Int32 = 6) { level = compressionLevel }

    public mutating func writeChunk(_ payload: [UInt8]) {
        guard !payload.isEmpty else { return }
        ChunkFraming.append(payload: payload, level: level, to: &bytes, scratch: &scratch)
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
