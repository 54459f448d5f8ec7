import TraceFormat

/// A small trace with every kind, built in memory.
func smallTrace(chunkSize: Int = 64, close: Bool = true) throws -> (bytes: [UInt8], events: [TraceEvent]) {
    var builder = TraceBuilder(sink: InMemoryTrace(), chunkSize: chunkSize)
    try builder.info([(TraceInfo.Key.runtime, "swift"), (TraceInfo.Key.pid, "42")])
    let main = builder.string("main")
    let worker = builder.string("worker")
    let cancellation = builder.string("CancellationError")
    var events: [TraceEvent] = []
    var time: UInt64 = 1_000
    func add(_ event: TraceEvent) throws {
        try builder.append(event)
        events.append(event)
    }
    try add(.spawn(time: time, task: 1, parent: 0, name: main, how: .root)); time += 500
    try add(.spawn(time: time, task: 2, parent: 1, name: worker, how: .unstructured)); time += 1_000_000
    try add(.cancel(time: time, task: 2, by: 1, reason: .explicit)); time += 7
    try add(.caught(time: time, task: 2, error: cancellation)); time += 9
    try add(.cleanupBegin(time: time, task: 2)); time += 100
    try add(.cleanupEnd(time: time, task: 2, result: .ok)); time += 3
    try add(.rethrow(time: time, task: 2)); time += 1
    try add(.end(time: time, task: 2, outcome: .cancelled, error: cancellation)); time += 10
    try add(.mark(time: time, task: 1, label: builder.string("checkpoint"))); time += 10
    try add(.end(time: time, task: 1, outcome: .returned)); time += 1
    if close {
        try builder.close(time: time)
        events.append(.close(time: time))
    } else {
        try builder.flush()
    }
    // The builder wrote the info records first.
    let infoEvents = [TraceEvent.info(time: 0, key: 1, value: 2), .info(time: 0, key: 3, value: 4)]
    return (builder.sink.bytes, infoEvents + events)
}

/// Every event the reader yields, and the reader for its notices.
func readAll(_ bytes: [UInt8]) throws -> (events: [TraceEvent], reader: TraceReader) {
    let reader = try TraceReader(bytes: bytes)
    var events: [TraceEvent] = []
    while let event = try reader.next() { events.append(event) }
    return (events, reader)
}
