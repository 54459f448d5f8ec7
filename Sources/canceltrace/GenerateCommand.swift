import ArgumentParser
import TraceFormat

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a realistic synthetic trace of any size, the same for the same seed.",
        discussion: """
            For benchmarks and for tests that need big inputs. Tasks are spawned in a tree under a root task, \
            a few hundred alive at once; about a third are cancelled (explicit, timeout, sibling failure, parent, \
            shutdown), and those mostly catch the cancellation, clean up and rethrow. A few swallow it, convert \
            it, finish late or leak, so `check` has findings to report. Give the size as events or as tasks.

            Examples:
              canceltrace generate big.ctrace --events 10000000 --seed 1
              canceltrace generate many-tasks.ctrace --tasks 1000000
            """
    )

    @Argument(help: "The trace file to write.")
    var output: String

    @Option(help: "Stop after about this many events (the trace then closes its live tasks' ends).")
    var events: Int?

    @Option(help: "Spawn this many tasks (besides the root).")
    var tasks: Int?

    @Option(help: "Seed of the pseudo-random generator; the same seed writes the same file.")
    var seed: UInt64 = 1

    @Option(help: "Tasks alive at once, at most.")
    var live = 256

    @Option(help: "zlib level 1 (fastest) … 9 (smallest).")
    var compressionLevel: Int32 = 6

    func validate() throws {
        if (events == nil) == (tasks == nil) { throw ValidationError("Give exactly one of --events N or --tasks N.") }
        if let events, events < 1 { throw ValidationError("--events must be at least 1.") }
        if let tasks, tasks < 1 { throw ValidationError("--tasks must be at least 1.") }
        if live < 1 { throw ValidationError("--live must be at least 1.") }
        if !(1...9).contains(compressionLevel) { throw ValidationError("--compression-level must be 1 … 9.") }
    }

    func run() throws {
        let file: TraceFileWriter
        do {
            file = try TraceFileWriter(path: output, compressionLevel: compressionLevel)
        } catch {
            throw TraceInput.fail(output, error.description)
        }
        var generator = SyntheticTrace(seed: seed, maxLive: live)
        var builder = TraceBuilder(sink: file)
        let limit: SyntheticTrace.Limit = events.map { .events($0) } ?? .tasks(tasks!)
        do {
            try generator.write(into: &builder, limit: limit)
        } catch {
            throw TraceInput.fail(output, "\(error)")
        }
        builder.sink.close()
        try Output.printLine("\(output): \(builder.eventCount) events, \(generator.spawned) tasks, \(builder.sink.bytesWritten) bytes")
    }
}

/// The generator behind `canceltrace generate`: a deterministic state machine per live task.
struct SyntheticTrace {
    enum Limit {
        case events(Int)
        case tasks(Int)
    }

    /// SplitMix64: small, fast, and the same everywhere.
    private struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        /// Uniform in 0..<bound.
        mutating func below(_ bound: UInt64) -> UInt64 { bound == 0 ? 0 : next() % bound }
        /// True with probability `percent` / 100.
        mutating func chance(_ percent: UInt64) -> Bool { below(100) < percent }
    }

    /// What a live task does next.
    private enum Phase {
        case running
        case cancelled
        case caught
        case cleaning
        case cleaned
        case rethrown
    }

    private struct LiveTask {
        var id: TaskID
        var phase: Phase = .running
        /// Steps left before it ends on its own.
        var work: Int
        /// How it will treat a cancellation: 0 rethrow (most), 1 swallow, 2 convert, 3 ignore for a while.
        var style: UInt64
    }

    private var random: Random
    private let maxLive: Int
    private var live: [LiveTask] = []
    private var time: UInt64 = 1_000
    private var nextID: TaskID = 2
    private(set) var spawned = 0

    private static let names = [
        "fetch", "parse", "render", "upload", "download", "resize", "index", "query", "poll", "heartbeat",
        "retry", "worker", "reader", "writer", "flush", "compact", "sync", "handshake", "resolve", "connect",
        "request", "response", "cache-fill", "prefetch", "thumbnail", "encode", "decode", "notify", "audit", "gc",
    ]
    private static let reasons: [CancelReason] = [.explicit, .explicit, .timeout, .timeout, .siblingFailure, .parent, .shutdown]

    init(seed: UInt64, maxLive: Int) {
        random = Random(state: seed)
        self.maxLive = maxLive
    }

    mutating func write<Sink: ChunkSink>(into builder: inout TraceBuilder<Sink>, limit: Limit) throws {
        try builder.info([
            (TraceInfo.Key.runtime, "swift"),
            (TraceInfo.Key.recorder, "canceltrace generate"),
            (TraceInfo.Key.recorderVersion, CancelTraceVersion.current),
            (TraceInfo.Key.pid, "0"),
            (TraceInfo.Key.process, "synthetic"),
            (TraceInfo.Key.wallClockStartNs, "0"),
            (TraceInfo.Key.clockResolutionNs, "1"),
        ])
        let nameIDs = Self.names.map { builder.string($0) }
        let cancellationError = builder.string("CancellationError")
        let timeoutError = builder.string("TimeoutError")
        let ioError = builder.string("IOError")
        try builder.append(.spawn(time: time, task: 1, parent: 0, name: builder.string("main"), how: .root))

        func done(_ count: Int) -> Bool {
            switch limit {
            case let .events(target): count >= target
            case .tasks: false
            }
        }
        func mayspawn(_ spawned: Int) -> Bool {
            switch limit {
            case .events: true
            case let .tasks(target): spawned < target
            }
        }

        while !done(builder.eventCount) {
            time &+= 200 &+ random.below(4_000)
            let wantSpawn = live.count < maxLive && (live.isEmpty || random.chance(live.count < maxLive / 2 ? 70 : 40))
            if wantSpawn && mayspawn(spawned) {
                let id = nextID
                nextID += 1
                spawned += 1
                let parent = live.isEmpty || random.chance(30) ? 1 : live[Int(random.below(UInt64(live.count)))].id
                let how: SpawnKind = random.chance(50) ? .groupChild : (random.chance(80) ? .unstructured : .detached)
                let name = nameIDs[Int(random.below(UInt64(nameIDs.count)))]
                try builder.append(.spawn(time: time, task: id, parent: parent, name: name, how: how))
                let style = random.below(100)
                live.append(LiveTask(id: id, work: 1 + Int(random.below(6)),
                                     style: style < 90 ? 0 : style < 94 ? 1 : style < 97 ? 2 : 3))
                continue
            }
            if live.isEmpty { break }  // --tasks reached and everything ended
            let index = Int(random.below(UInt64(live.count)))
            var task = live[index]
            var ended = false
            switch task.phase {
            case .running:
                task.work -= 1
                if random.chance(12) {
                    let reason = Self.reasons[Int(random.below(UInt64(Self.reasons.count)))]
                    let by: TaskID = reason == .shutdown ? 0 : (random.chance(50) ? 1 : live[Int(random.below(UInt64(live.count)))].id)
                    try builder.append(.cancel(time: time, task: task.id, by: by == task.id ? 1 : by, reason: reason))
                    task.phase = .cancelled
                } else if task.work <= 0 {
                    let failed = random.chance(3)
                    try builder.append(.end(time: time, task: task.id, outcome: failed ? .failed : .returned,
                                            error: failed ? ioError : 0))
                    ended = true
                } else if random.chance(5) {
                    try builder.append(.mark(time: time, task: task.id, label: nameIDs[Int(random.below(UInt64(nameIDs.count)))]))
                }
            case .cancelled:
                if task.style == 3 && random.chance(70) {
                    // Keeps working a while, then returns as if nothing happened (completed-after-cancel).
                    task.work -= 1
                    if task.work <= -3 {
                        try builder.append(.end(time: time, task: task.id, outcome: .returned))
                        ended = true
                    }
                } else if random.chance(15) {
                    // Nobody caught it: the cancellation ends the task directly.
                    try builder.append(.end(time: time, task: task.id, outcome: .cancelled, error: cancellationError))
                    ended = true
                } else {
                    try builder.append(.caught(time: time, task: task.id, error: cancellationError))
                    task.phase = .caught
                }
            case .caught:
                if random.chance(80) {
                    try builder.append(.cleanupBegin(time: time, task: task.id))
                    task.phase = .cleaning
                } else {
                    task.phase = .cleaned
                }
            case .cleaning:
                let threw = random.chance(2)
                try builder.append(.cleanupEnd(time: time, task: task.id, result: threw ? .threw : .ok,
                                               error: threw ? ioError : 0))
                task.phase = .cleaned
            case .cleaned:
                switch task.style {
                case 1:
                    try builder.append(.end(time: time, task: task.id, outcome: .returned))
                    ended = true
                case 2:
                    try builder.append(.end(time: time, task: task.id, outcome: .failed, error: timeoutError))
                    ended = true
                default:
                    try builder.append(.rethrow(time: time, task: task.id))
                    task.phase = .rethrown
                }
            case .rethrown:
                try builder.append(.end(time: time, task: task.id, outcome: .cancelled, error: cancellationError))
                ended = true
            }
            if ended {
                live.swapAt(index, live.count - 1)
                live.removeLast()
            } else {
                live[index] = task
            }
        }
        // A few tasks are left running on purpose when the event budget runs out: they read as leaked.
        time &+= 1_000
        try builder.append(.end(time: time, task: 1, outcome: .returned))
        try builder.close(time: time)
    }
}
