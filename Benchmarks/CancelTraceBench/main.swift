// canceltrace-bench: the figures of Docs/Performance.md. Build in release:
//   swift build -c release --scratch-path .build-bench --product canceltrace-bench
// and run `canceltrace-bench recorder | churn | analyze FILE | all FILE`. Ratios are measured side by side in
// one run, alternating, because the machine is shared and noisy; each figure is the median of the rounds.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCycleCounter
import CZlib
import Dispatch
import MallocCounter
import TraceAnalysis
import TraceFormat
import TraceRecorder
import TraceRendering

// MARK: Helpers

func now() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}

/// CPU time of the calling thread: on this shared machine, wall time also counts the time other processes held
/// the cores, which moves a single-threaded pass by ±30 % between runs; thread CPU time does not.
func threadCPUTime() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

func fmt(_ value: Double, _ digits: Int = 1) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    return String(rounded)
}

func maxRSSMiB() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    return Double(usage.ru_maxrss) / 1024  // Linux: KiB
}

/// Bytes the allocator has handed out and not had back (glibc's `mallinfo2`): the live heap, without the freed
/// memory that RSS still counts.
func heapInUseMiB() -> Double {
    #if canImport(Glibc) && arch(x86_64)
    // `struct mallinfo2` (ten size_t fields) is returned through a hidden pointer, which on x86-64 is the first
    // argument: called as a function of that pointer. Swift's Glibc module does not import malloc.h.
    typealias MallInfo2 = @convention(c) (UnsafeMutablePointer<Int>) -> Void
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallinfo2") else { return 0 }
    var fields = [Int](repeating: 0, count: 10)
    fields.withUnsafeMutableBufferPointer { unsafeBitCast(symbol, to: MallInfo2.self)($0.baseAddress!) }
    return Double(fields[4] + fields[7]) / 1_048_576  // hblkhd + uordblks
    #else
    return 0
    #endif
}

func report(_ name: String, _ value: String, _ note: String = "") {
    let padded = name.count >= 52 ? name : name + String(repeating: " ", count: 52 - name.count)
    print("\(padded) \(value)\(note.isEmpty ? "" : "   (\(note))")")
}

/// Counts raw bytes and discards them: the recorder's hot path without compression or I/O.
struct DiscardingSink: ChunkSink {
    var bytes = 0
    var chunks = 0
    mutating func writeChunk(_ payload: [UInt8]) {
        bytes += payload.count
        chunks += 1
    }
}

final class Box<T>: @unchecked Sendable { var value: T; init(_ value: T) { self.value = value } }

/// CPU time of the whole process (user + system, every thread, the writer's too).
func processCPUTime() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}

/// Runs `body(i)` on `count` new OS threads at once (they start together at a barrier) and waits for them all.
/// Swift's own pool has one thread per core; these stand for an app's other threads that record events.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let ready = Box(0)
    let lock = NSLockish()
    let run: @Sendable (Int) -> Void = { index in
        lock.withLock { ready.value += 1 }
        while lock.withLock({ ready.value }) < count { sched_yield() }
        body(index)
    }
    var threads: [pthread_t] = []
    for index in 0..<count {
        let context = Unmanaged.passRetained(Box((index, run))).toOpaque()
        var thread = pthread_t()
        pthread_create(&thread, nil, { context in
            let job = Unmanaged<Box<(Int, @Sendable (Int) -> Void)>>.fromOpaque(context!).takeRetainedValue()
            job.value.1(job.value.0)
            return nil
        }, context)
        threads.append(thread)
    }
    for thread in threads { pthread_join(thread, nil) }
}

/// A pthread mutex for the benchmark's own bookkeeping (not on any measured path).
final class NSLockish: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

// MARK: 1. Recorder cost per event

/// `events` plain events (`cleanupBegin`: a task-local read, the lock, a clock read, ~4 encoded bytes) on this
/// thread. Returns (ns per event, allocations on this thread per event).
func recordLoop(_ events: Int, label: Bool) -> (Double, Double) {
    let (ns, allocations, _) = recordLoopCPU(events, label: label)
    return (ns, allocations)
}

/// `recordLoop`, also returning the thread's CPU time per event (on this shared VM, wall time also counts the
/// time other processes held the core).
func recordLoopCPU(_ events: Int, label: Bool) -> (Double, Double, Double) {
    let allocations = malloc_counter_thread()
    let start = now(), startCPU = threadCPUTime()
    if label {
        for _ in 0..<events { CancelTrace.mark("tick") }
    } else {
        for _ in 0..<events { CancelTrace.cleanupBegin() }
    }
    let cpu = threadCPUTime() - startCPU
    let elapsed = now() - start
    let allocated = malloc_counter_thread() - allocations
    return (Double(elapsed) / Double(events), Double(allocated) / Double(events), Double(cpu) / Double(events))
}

func benchRecorder(rounds: Int) async throws {
    let events = 2_000_000
    print("## Recorder cost per event (\(events) events per round, median of \(rounds) rounds)")
    if malloc_counter_active() == 0 { print("(allocation counter inactive on this platform)") }

    // Off: one relaxed load and a branch.
    var off: [Double] = []
    for _ in 0..<rounds { off.append(recordLoop(events * 5, label: false).0) }
    report("recording off, per call", "\(fmt(median(off), 2)) ns")

    var clock: [Double] = []
    for _ in 0..<rounds {
        let start = now()
        var sink: UInt64 = 0
        for _ in 0..<events { var spec = timespec(); clock_gettime(CLOCK_MONOTONIC, &spec); sink &+= UInt64(spec.tv_nsec) }
        clock.append(Double(now() - start) / Double(events))
        if sink == 42 { print("") }
    }
    report("clock_gettime(CLOCK_MONOTONIC) alone", "\(fmt(median(clock))) ns")
    var cycles: [Double] = []
    for _ in 0..<rounds {
        let start = now()
        var sink: UInt64 = 0
        for _ in 0..<events { sink &+= cancel_trace_cycles() }
        cycles.append(Double(now() - start) / Double(events))
        if sink == 42 { print("") }
    }
    report("cycle counter (rdtsc) alone", "\(fmt(median(cycles))) ns",
           cancel_trace_has_invariant_cycles() != 0 ? "invariant: events read it" : "not invariant: events read clock_gettime")

    // The event clock side by side: the cycle counter against CLOCK_MONOTONIC for every event, alternating.
    var byCycles: [Double] = [], byMonotonic: [Double] = [], byCyclesCPU: [Double] = [], byMonotonicCPU: [Double] = []
    for _ in 0..<rounds {
        for monotonic in [false, true] {
            if monotonic { setenv("CANCELTRACE_EVENT_CLOCK", "monotonic", 1) } else { unsetenv("CANCELTRACE_EVENT_CLOCK") }
            try CancelTrace.start(sink: DiscardingSink())
            await CancelTrace.withRootTask(name: "bench") {
                _ = recordLoop(200_000, label: false)
                let (ns, _, cpu) = recordLoopCPU(events, label: false)
                if monotonic { byMonotonic.append(ns); byMonotonicCPU.append(cpu) } else { byCycles.append(ns); byCyclesCPU.append(cpu) }
            }
            CancelTrace.finish()
        }
    }
    unsetenv("CANCELTRACE_EVENT_CLOCK")
    report("1 thread, discarding sink: cleanupBegin, cycle-counter clock", "\(fmt(median(byCycles))) ns/event",
           "thread CPU \(fmt(median(byCyclesCPU))) ns/event; in a traced task (task-local read included)")
    report("1 thread, discarding sink: cleanupBegin, clock_gettime each", "\(fmt(median(byMonotonic))) ns/event",
           "thread CPU \(fmt(median(byMonotonicCPU))) ns/event; CANCELTRACE_EVENT_CLOCK=monotonic; same run, alternating")

    for (sinkName, level) in [("discarding sink (no compression)", Int32(0)), ("file sink, zlib level 6", 6), ("file sink, zlib level 1", 1)] {
        var plain: [Double] = [], plainAllocs: [Double] = [], marks: [Double] = [], markAllocs: [Double] = []
        var bytesPerEvent = 0.0
        for _ in 0..<rounds {
            let path = "/tmp/canceltrace-bench-\(getpid()).ctrace"
            let options = CancelTrace.Options(compressionLevel: max(1, level))
            if level == 0 { try CancelTrace.start(sink: DiscardingSink(), options: options) } else { try CancelTrace.start(path: path, options: options) }
            await CancelTrace.withRootTask(name: "bench") {
                _ = recordLoop(200_000, label: false)  // warm up: buffers recycled, strings defined
                _ = recordLoop(200_000, label: true)
                let (ns, allocs) = recordLoop(events, label: false)
                plain.append(ns); plainAllocs.append(allocs)
                let (markNs, markAlloc) = recordLoop(events, label: true)
                marks.append(markNs); markAllocs.append(markAlloc)
            }
            CancelTrace.finish()
            if level != 0 {
                var info = stat()
                stat(path, &info)
                bytesPerEvent = Double(info.st_size) / Double(2 * events + 400_000)
                unlink(path)
            }
        }
        report("1 thread, \(sinkName): cleanupBegin", "\(fmt(median(plain))) ns/event",
               "allocations/event on the recording thread: \(fmt(median(plainAllocs), 4))")
        report("1 thread, \(sinkName): mark(\"tick\")", "\(fmt(median(marks))) ns/event",
               "allocations/event: \(fmt(median(markAllocs), 4))" + (level != 0 ? ", \(fmt(bytesPerEvent, 2)) B/event on disk" : ""))
    }

    // Two threads contending for the one session lock.
    for (sinkName, level) in [("discarding sink", Int32(0)), ("file sink, default options", 6)] {
        var perThread: [Double] = [], throughput: [Double] = [], allocs: [Double] = []
        for _ in 0..<rounds {
            let path = "/tmp/canceltrace-bench-\(getpid()).ctrace"
            if level == 0 { try CancelTrace.start(sink: DiscardingSink()) } else { try CancelTrace.start(path: path) }
            let start = now()
            let results = await withTaskGroup(of: (Double, Double).self) { group in
                for _ in 0..<2 {
                    group.addTask {
                        await CancelTrace.withRootTask(name: "bench") { recordLoop(events, label: false) }
                    }
                }
                var all: [(Double, Double)] = []
                for await result in group { all.append(result) }
                return all
            }
            let wall = Double(now() - start)
            CancelTrace.finish()
            if level != 0 { unlink(path) }
            perThread.append(results.map(\.0).reduce(0, +) / 2)
            allocs.append(results.map(\.1).reduce(0, +) / 2)
            throughput.append(wall / Double(2 * events))
        }
        report("2 threads, \(sinkName): cost per event per thread", "\(fmt(median(perThread))) ns/event",
               "wall time per event, both threads: \(fmt(median(throughput))) ns; allocations/event \(fmt(median(allocs), 4))")
    }

    // 1, 2, 4 and 16 threads recording at once (OS threads, no task: `cleanupBegin` with task 0), discarding
    // sink. Per event per thread by each thread's CPU time (the cost each thread pays, contention included), and
    // wall time per event of all threads together (throughput on this machine's 2 cores).
    let perThreadEvents = 100_000
    for threads in [1, 2, 4, 16] {
        var cpu: [Double] = [], wall: [Double] = []
        for _ in 0..<rounds {
            try CancelTrace.start(sink: DiscardingSink())
            let costs = Box([Double](repeating: 0, count: threads))
            let lock = NSLockish()
            let start = now()
            onThreads(threads) { index in
                let begin = threadCPUTime()
                for _ in 0..<perThreadEvents { CancelTrace.cleanupBegin() }
                let spent = Double(threadCPUTime() - begin) / Double(perThreadEvents)
                lock.withLock { costs.value[index] = spent }
            }
            wall.append(Double(now() - start) / Double(threads * perThreadEvents))
            CancelTrace.finish()
            cpu.append(costs.value.reduce(0, +) / Double(threads))
        }
        report("\(threads) thread(s) × \(perThreadEvents / 1000) k events: CPU per event per thread", "\(fmt(median(cpu))) ns",
               "wall per event, all threads: \(fmt(median(wall))) ns")
    }
}

// MARK: 2. Task churn

func churnBody() async throws {
    await Task.yield()
    try Task.checkCancellation()
}

func churnPlain(_ n: Int) async {
    var tasks: [Task<Void, any Error>] = []
    tasks.reserveCapacity(n)
    for _ in 0..<n { tasks.append(Task { try await churnBody() }) }
    for index in stride(from: 0, to: n, by: 2) { tasks[index].cancel() }
    for task in tasks { _ = await task.result }
}

enum BenchTaskLocal {
    @TaskLocal static var value: Int = 0
}

/// What a traced task costs the Swift runtime before the recorder does anything: the task-local binding that
/// lets events find their task and the cancellation handler that sees cancels from outside the API.
func churnRuntimeFloor(_ n: Int) async {
    var tasks: [Task<Void, any Error>] = []
    tasks.reserveCapacity(n)
    for i in 0..<n {
        tasks.append(Task {
            try await BenchTaskLocal.$value.withValue(i) {
                try await withTaskCancellationHandler { try await churnBody() } onCancel: {}
            }
        })
    }
    for index in stride(from: 0, to: n, by: 2) { tasks[index].cancel() }
    for task in tasks { _ = await task.result }
}

func churnTraced(_ n: Int) async {
    await CancelTrace.withRootTask(name: "main") {
        var tasks: [Task<Void, any Error>] = []
        tasks.reserveCapacity(n)
        for _ in 0..<n { tasks.append(CancelTrace.task(name: "worker") { try await churnBody() }) }
        for index in stride(from: 0, to: n, by: 2) { tasks[index].cancel() }
        for task in tasks { _ = await task.result }
    }
}

func benchChurn(rounds: Int) async throws {
    let n = 50_000
    print("## Task churn: \(n) tasks spawned, half cancelled, all awaited (median of \(rounds) alternating rounds)")
    var plain: [Double] = [], traced: [Double] = [], tracedOff: [Double] = [], floor: [Double] = []
    var discarding: [Double] = [], level1: [Double] = []
    // Process CPU (every thread, the writer's too) of the same runs: on this shared machine wall time also
    // counts other processes' time on the two cores.
    var plainCPU: [Double] = [], tracedCPU: [Double] = [], discardingCPU: [Double] = [], level1CPU: [Double] = []
    var bytes = 0, events = 0, level1Bytes = 0, level1Events = 0
    var recompressed: [(bytes: [Double], cpu: [Double])] = [([], []), ([], [])]
    let path = "/tmp/canceltrace-bench-churn-\(getpid()).ctrace"
    await churnPlain(n)  // warm up the pool
    func timed(_ wall: inout [Double], _ cpu: inout [Double], _ body: () async throws -> Void) async rethrows {
        let start = now(), startCPU = processCPUTime()
        try await body()
        wall.append(Double(now() - start))
        cpu.append(Double(processCPUTime() - startCPU))
    }
    func traceSize() throws -> (bytes: Int, events: Int) {
        var info = stat()
        stat(path, &info)
        let reader = try TraceReader(path: path)
        var count = 0
        while try reader.next() != nil { count += 1 }
        return (Int(info.st_size), count)
    }
    var unused: [Double] = []
    for _ in 0..<rounds {
        await timed(&plain, &plainCPU) { await churnPlain(n) }
        await timed(&floor, &unused) { await churnRuntimeFloor(n) }
        // Recording off: the traced API falls back to plain tasks.
        await timed(&tracedOff, &unused) { await churnTraced(n) }
        try await timed(&discarding, &discardingCPU) {
            try CancelTrace.start(sink: DiscardingSink())
            await churnTraced(n)
            CancelTrace.finish()
        }
        try await timed(&traced, &tracedCPU) {
            try CancelTrace.start(path: path)
            await churnTraced(n)
            CancelTrace.finish()  // includes compressing and writing the last chunk
        }
        (bytes, events) = try traceSize()
        let again = recompress(path, levels: [1, 6])
        for (index, result) in again.enumerated() {
            recompressed[index].bytes.append(Double(result.bytes) / Double(events))
            recompressed[index].cpu.append(result.cpu / Double(events))
        }
        try await timed(&level1, &level1CPU) {
            try CancelTrace.start(path: path, options: CancelTrace.Options(compressionLevel: 1))
            await churnTraced(n)
            CancelTrace.finish()
        }
        (level1Bytes, level1Events) = try traceSize()
    }
    unlink(path)
    let p = median(plain), t = median(traced), o = median(tracedOff), f = median(floor)
    func cpuRatio(_ cpu: [Double]) -> String { "CPU ratio \(fmt(median(zip(cpu, plainCPU).map { $0 / $1 }), 3))" }
    report("uninstrumented (Task { })", "\(fmt(p / 1e6)) ms", "\(fmt(p / Double(n))) ns/task, \(fmt(median(plainCPU) / 1e6)) ms CPU")
    report("Task + task-local + cancellation handler, no recorder", "\(fmt(f / 1e6)) ms", "ratio \(fmt(f / p, 3)): the runtime's share")
    report("instrumented API, recording off", "\(fmt(o / 1e6)) ms", "ratio \(fmt(o / p, 3))")
    let d = median(discarding)
    report("instrumented, recording to a discarding sink", "\(fmt(d / 1e6)) ms",
           "ratio \(fmt(d / p, 3)), \(cpuRatio(discardingCPU)): no compression or I/O on the writer thread")
    report("instrumented, recording to a file, zlib level 1", "\(fmt(median(level1) / 1e6)) ms",
           "ratio \(fmt(median(level1) / p, 3)), \(cpuRatio(level1CPU)); \(fmt(Double(level1Bytes) / Double(level1Events), 2)) B/event")
    report("instrumented, recording to a file (default options)", "\(fmt(t / 1e6)) ms", "\(fmt(t / Double(n))) ns/task")
    report("churn ratio instrumented / uninstrumented", "\(fmt(t / p, 3))×", "target ≤ 1.15; \(cpuRatio(tracedCPU))")
    report("churn trace", "\(events) events, \(bytes) bytes", "\(fmt(Double(bytes) / Double(events), 2)) B/event, target ≤ 4")
    for (index, level) in [1, 6].enumerated() {
        report("same trace's chunks recompressed, zlib level \(level)",
               "\(fmt(median(recompressed[index].bytes), 2)) B/event",
               "compress2: \(fmt(median(recompressed[index].cpu))) ns CPU/event")
    }
}

/// One churn variant only, `rounds` times: for profilers (`perf record … churn-one traced`).
func benchChurnOne(_ mode: String, rounds: Int) async throws {
    let n = 50_000
    let path = "/tmp/canceltrace-bench-churn-one-\(getpid()).ctrace"
    let start = now(), startCPU = processCPUTime(), startAllocs = malloc_counter_process()
    let startClasses = (0..<64).map { malloc_counter_size_class(Int32($0)) }
    for _ in 0..<rounds {
        switch mode {
        case "plain": await churnPlain(n)
        case "floor": await churnRuntimeFloor(n)
        case "discarding":
            try CancelTrace.start(sink: DiscardingSink())
            await churnTraced(n)
            CancelTrace.finish()
        default:
            try CancelTrace.start(path: path)
            await churnTraced(n)
            CancelTrace.finish()
        }
    }
    if let keep = getenv("BENCH_KEEP") { rename(path, keep) } else { unlink(path) }
    report("churn \(mode), \(rounds) × \(n) tasks", "\(fmt(Double(now() - start) / Double(rounds) / 1e6)) ms wall per round",
           "\(fmt(Double(processCPUTime() - startCPU) / Double(rounds) / 1e6)) ms process CPU per round")
    let tasks = Double(rounds * n)
    let classes = (0..<64).map { Double(malloc_counter_size_class(Int32($0)) - startClasses[$0]) / tasks }
    let sizes = classes.indices.filter { classes[$0] >= 0.01 }
        .map { "< \(1 << $0) B: \(fmt(classes[$0], 2))" }.joined(separator: ", ")
    report("allocations per task", fmt(Double(malloc_counter_process() - startAllocs) / tasks, 2), sizes)
}

/// Churn started from `threads` OS threads at once: each spawns its share of the tasks, cancels every second one
/// and waits for them, so spawns and cancels are recorded by that many threads (the tasks' bodies and ends run
/// on Swift's pool). Returns (wall ns, process CPU ns).
func churnFromThreads(_ n: Int, threads: Int, traced: Bool) -> (Double, Double) {
    let startWall = now(), startCPU = processCPUTime()
    onThreads(threads) { _ in
        var tasks: [Task<Void, any Error>] = []
        tasks.reserveCapacity(n / threads)
        for _ in 0..<(n / threads) {
            tasks.append(traced ? CancelTrace.task(name: "worker") { try await churnBody() } : Task { try await churnBody() })
        }
        for index in stride(from: 0, to: tasks.count, by: 2) { tasks[index].cancel() }
        let done = DispatchSemaphore(value: 0)
        let all = tasks
        Task {
            for task in all { _ = await task.result }
            done.signal()
        }
        done.wait()
    }
    return (Double(now() - startWall), Double(processCPUTime() - startCPU))
}

func benchChurnThreads(rounds: Int) throws {
    let n = 48_000
    print("## Task churn from 1, 2, 4, 16 OS threads at once: \(n) tasks in all, half cancelled (median of \(rounds) alternating rounds)")
    let path = "/tmp/canceltrace-bench-churn-threads-\(getpid()).ctrace"
    _ = churnFromThreads(n, threads: 2, traced: false)  // warm up
    for threads in [1, 2, 4, 16] {
        var plainWall: [Double] = [], plainCPU: [Double] = [], wallRatio: [Double] = [], cpuRatio: [Double] = []
        for _ in 0..<rounds {
            let (pw, pc) = churnFromThreads(n, threads: threads, traced: false)
            try CancelTrace.start(path: path)
            let (tw, tc) = churnFromThreads(n, threads: threads, traced: true)
            CancelTrace.finish()
            plainWall.append(pw); plainCPU.append(pc)
            wallRatio.append(tw / pw); cpuRatio.append(tc / pc)
        }
        unlink(path)
        report("\(threads) thread(s): instrumented / plain", "wall \(fmt(median(wallRatio), 3))×, CPU \(fmt(median(cpuRatio), 3))×",
               "plain \(fmt(median(plainWall) / 1e6)) ms wall, \(fmt(median(plainCPU) / 1e6)) ms CPU")
    }
}

// MARK: 4. Analysis

/// Reads the file's chunks and inflates each, nothing else: the floor any reader of this format pays.
/// Each chunk of `path` inflated, then compressed again at zlib `levels` (`compress2`): compressed bytes and
/// thread CPU nanoseconds per level, for the same events (what the writer thread would pay at each level).
func recompress(_ path: String, levels: [Int32]) -> [(bytes: Int, cpu: Double)] {
    var results = levels.map { _ in (bytes: 0, cpu: 0.0) }
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return results }
    defer { close(fd) }
    var header = [UInt8](repeating: 0, count: 16)
    _ = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }  // file header
    while true {
        let n = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        if n < 16 { break }
        let compressedLength = Int(header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) })
        let rawLength = Int(header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) })
        var compressed = [UInt8](repeating: 0, count: compressedLength)
        var got = 0
        while got < compressedLength {
            let r = compressed.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, compressedLength - got) }
            if r <= 0 { return results }
            got += r
        }
        var raw = [UInt8](repeating: 0, count: rawLength)
        var produced = uLong(rawLength)
        _ = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { uncompress(out.baseAddress, &produced, $0.baseAddress, uLong(compressedLength)) }
        }
        for (index, level) in levels.enumerated() {
            var out = [UInt8](repeating: 0, count: Int(compressBound(uLong(produced))))
            var outLength = uLong(out.count)
            let start = threadCPUTime()
            _ = out.withUnsafeMutableBufferPointer { o in
                raw.withUnsafeBufferPointer { compress2(o.baseAddress, &outLength, $0.baseAddress, produced, level) }
            }
            results[index].cpu += Double(threadCPUTime() - start)
            results[index].bytes += Int(outLength) + 16
        }
    }
    return results
}

/// Reads the chunks of the trace at `path` one after another, without checks, and hands each one's compressed
/// bytes and an output buffer of its declared raw length to `inflate`, which returns how many bytes it produced.
func forEachChunk(_ path: String, _ inflate: (UnsafeMutableBufferPointer<UInt8>, UnsafeMutableBufferPointer<UInt8>) -> Int)
    -> (chunks: Int, rawBytes: Int) {
    let fd = open(path, O_RDONLY)
    precondition(fd >= 0, "cannot open \(path)")
    defer { close(fd) }
    var header = [UInt8](repeating: 0, count: 16)
    var compressed = [UInt8](repeating: 0, count: 1 << 20)
    var raw = [UInt8](repeating: 0, count: 16 << 20)
    _ = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }  // file header
    var chunks = 0, rawBytes = 0
    while true {
        let n = header.withUnsafeMutableBytes { read(fd, $0.baseAddress, 16) }
        if n < 16 { break }
        let compressedLength = Int(header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self) })
        let rawLength = Int(header.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt32.self) })
        if compressed.count < compressedLength { compressed = [UInt8](repeating: 0, count: compressedLength) }
        var got = 0
        while got < compressedLength {
            let r = compressed.withUnsafeMutableBytes { read(fd, $0.baseAddress! + got, compressedLength - got) }
            if r <= 0 { return (chunks, rawBytes) }
            got += r
        }
        let produced = raw.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeMutableBufferPointer { input in
                inflate(UnsafeMutableBufferPointer(rebasing: input[..<compressedLength]),
                        UnsafeMutableBufferPointer(rebasing: out[..<min(rawLength, out.count)]))
            }
        }
        chunks += 1
        rawBytes += produced
    }
    return (chunks, rawBytes)
}

/// Each chunk through zlib's one-call `uncompress`, Adler-32 checked: the 1× of the analysis ratios.
func plainInflate(_ path: String) -> (chunks: Int, rawBytes: Int) {
    forEachChunk(path) { input, output in
        var produced = uLong(output.count)
        _ = uncompress(output.baseAddress, &produced, input.baseAddress, uLong(input.count))
        return Int(produced)
    }
}

/// `plainInflate` as `TraceReader` inflates: one stream state reused, the Adler-32 of the output not computed
/// (the chunk's CRC-32 covers the compressed bytes), all output in one call. The like-for-like floor of the pass.
func inflateWithoutAdler(_ path: String) -> (chunks: Int, rawBytes: Int) {
    var stream = z_stream()
    precondition(inflateInit_(&stream, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK)
    defer { inflateEnd(&stream) }
    return forEachChunk(path) { input, output in
        inflateReset(&stream)
        inflateValidate(&stream, 0)
        stream.next_in = input.baseAddress
        stream.avail_in = uInt(input.count)
        stream.next_out = output.baseAddress
        stream.avail_out = uInt(output.count)
        _ = CZlib.inflate(&stream, Z_FINISH)
        return output.count - Int(stream.avail_out)
    }
}

func benchAnalyze(_ path: String, rounds: Int) throws {
    print("## Analysis of \(path) (thread CPU time, median of \(rounds) alternating rounds; ratios are medians of each round's ratio)")
    var inflate: [Double] = [], bare: [Double] = [], decode: [Double] = [], batches: [Double] = [], analyze: [Double] = []
    var events = 0, chunks = 0, rawBytes = 0
    var findings = 0, peakLive = 0
    for _ in 0..<rounds {
        var start = threadCPUTime()
        (chunks, rawBytes) = plainInflate(path)
        inflate.append(Double(threadCPUTime() - start))

        start = threadCPUTime()
        let (_, bareBytes) = inflateWithoutAdler(path)
        bare.append(Double(threadCPUTime() - start))
        precondition(bareBytes == rawBytes, "inflating without Adler-32 gave \(bareBytes) bytes, not \(rawBytes)")

        start = threadCPUTime()
        let reader = try TraceReader(path: path)
        var count = 0
        while try reader.next() != nil { count += 1 }
        decode.append(Double(threadCPUTime() - start))
        events = count

        start = threadCPUTime()
        let visitReader = try TraceReader(path: path)
        var counter = EventCounter()
        while try visitReader.nextEvents(to: &counter) {}
        batches.append(Double(threadCPUTime() - start))
        precondition(counter.count == events, "nextEvents(to:) visited \(counter.count) events, next() \(events)")

        start = threadCPUTime()
        let report = try TraceAnalyzer().analyze(try TraceReader(path: path))
        analyze.append(Double(threadCPUTime() - start))
        findings = report.findingCounts.values.reduce(0, +)
        peakLive = report.stats.peakLiveTasks
    }
    var info = stat()
    stat(path, &info)
    let i = median(inflate), n = median(bare), d = median(decode), b = median(batches), a = median(analyze)
    func ratio(_ times: [Double], to floor: [Double] = inflate) -> Double { median(zip(times, floor).map { $0 / $1 }) }
    report("file", "\(events) events, \(chunks) chunks, \(info.st_size) bytes",
           "\(fmt(Double(info.st_size) / Double(events), 2)) B/event compressed, \(fmt(Double(rawBytes) / Double(events), 2)) raw")
    report("plain inflate of every chunk", "\(fmt(i / 1e6)) ms", "\(fmt(Double(events) / i * 1e3)) M events/s")
    report("inflate without Adler-32 (as TraceReader)", "\(fmt(n / 1e6)) ms", "\(fmt(Double(events) / n * 1e3)) M events/s, \(fmt(ratio(bare), 2))× inflate")
    report("TraceReader: decode every event", "\(fmt(d / 1e6)) ms", "\(fmt(Double(events) / d * 1e3)) M events/s, \(fmt(ratio(decode), 2))× inflate")
    report("TraceReader: decode to a visitor (nextEvents(to:))", "\(fmt(b / 1e6)) ms", "\(fmt(Double(events) / b * 1e3)) M events/s, \(fmt(ratio(batches), 2))× inflate")
    report("TraceAnalyzer (check/stats pass)", "\(fmt(a / 1e6)) ms", "\(fmt(Double(events) / a * 1e3)) M events/s, \(fmt(ratio(analyze), 2))× inflate, \(fmt(ratio(analyze, to: bare), 2))× inflate without Adler-32")
    report("findings, peak live tasks", "\(findings), \(peakLive)")
    report("peak RSS of this process", "\(fmt(maxRSSMiB())) MiB")
}

/// The timeline's phases as `canceltrace timeline` runs them (outline analysis, layout, a second read when needed,
/// each renderer), each with its thread CPU time, the process's peak RSS after it and the heap in use. One round:
/// the peak cannot be reset, so the text timeline (the smaller) runs first, then the pictures' (their analysis
/// keeps cancel details, some findings' text and more lifecycles), then the full-lifecycle path (`keepTasks`,
/// what `timeline` did before the outline).
func benchTimeline(_ path: String) throws {
    print("## Timeline of \(path) (thread CPU time of each phase; peak RSS of the process after it, heap in use)")
    func currentRSSMiB() -> Double {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = Double(statm.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return pages * 4096 / 1_048_576
    }
    func phase<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = threadCPUTime()
        let result = try body()
        report(name, "\(fmt(Double(threadCPUTime() - start) / 1e6)) ms",
               "peak RSS \(fmt(maxRSSMiB())) MiB, now \(fmt(currentRSSMiB())) MiB, heap in use \(fmt(heapInUseMiB())) MiB")
        return result
    }
    /// As `TimelineCommand.layOut`: lifecycles kept for 4 × `lanes`, the text of the first `listedFindings`
    /// findings and of the kept tasks' (nil: levels only), a second read for the rest drawn alone.
    func layOut(lanes: Int, listedFindings: Int?) throws -> (AnalysisReport, TimelineLayout) {
        let picture = listedFindings != nil
        var analysis = try phase("analysis, outline, \(lanes) lanes, \(listedFindings.map { "text of the first \($0) findings" } ?? "finding levels only")") {
            var analyzer = TraceAnalyzer()
            analyzer.keepsFindingText = false
            analyzer.textOfFirstFindings = listedFindings
            return try analyzer.analyze(try TraceReader(path: path),
                                        keeping: .outline(OutlineRetention(perSiblingName: lanes, maxKept: 4 * lanes,
                                                                           cancelDetails: picture)))
        }
        let tasks = analysis.outline?.count ?? 0, kept = analysis.outline?.details.count ?? 0
        var layout = try phase("layout (forest, lanes), \(lanes) lanes") { try TimelineLayout(taking: &analysis, focus: nil, maxLanes: lanes) }
        let again = layout.idsToReadAgain(analysis, findingText: picture)
        if !again.isEmpty {
            try phase("second read for \(again.count) tasks") {
                var analyzer = TraceAnalyzer()
                analyzer.keepsFindingText = false
                if picture { analyzer.textOfFirstFindings = 0 } else { analyzer.maxFindings = 0 }
                layout.supply(try analyzer.analyze(try TraceReader(path: path), keeping: .only(again)), to: &analysis)
            }
        }
        report("outline: tasks, full lifecycles kept", "\(tasks), \(kept)")
        return (analysis, layout)
    }
    do {
        let (analysis, layout) = try layOut(lanes: 40, listedFindings: nil)
        let text = phase("text render") { TimelineRenderer(width: 100, maxLanes: 40).render(analysis, layout: layout, title: path) }
        report("text lines", "\(text.split(separator: "\n").count)")
    }
    do {
        let (analysis, layout) = try layOut(lanes: 200, listedFindings: HTMLTimelineRenderer().maxListedFindings)
        let svg = phase("SVG render") { SVGTimelineRenderer(maxLanes: 200).render(analysis, layout: layout, title: path) }
        let html = phase("HTML render") { HTMLTimelineRenderer(maxLanes: 200).render(analysis, layout: layout, title: path) }
        report("SVG, HTML bytes", "\(svg.utf8.count), \(html.utf8.count)")
    }
    let full = try phase("analysis keeping every lifecycle (before)") {
        try TraceAnalyzer().analyze(try TraceReader(path: path), keepTasks: true)
    }
    _ = phase("text render from every lifecycle (before)") { try? TimelineRenderer(width: 100, maxLanes: 40).render(full, title: path) }
}

// MARK: Main

let arguments = Array(CommandLine.arguments.dropFirst())
let rounds = Int(getenv("BENCH_ROUNDS").map { String(cString: $0) } ?? "") ?? 5
switch arguments.first {
case "recorder":
    try await benchRecorder(rounds: rounds)
case "churn":
    try await benchChurn(rounds: rounds)
case "churn-threads":
    try benchChurnThreads(rounds: rounds)
case "churn-one" where arguments.count == 2:
    try await benchChurnOne(arguments[1], rounds: rounds)
case "timeline" where arguments.count == 2:
    try benchTimeline(arguments[1])
case "analyze" where arguments.count == 2:
    try benchAnalyze(arguments[1], rounds: rounds)
default:
    print("usage: canceltrace-bench recorder | churn | churn-threads | churn-one plain|floor|discarding|traced | analyze FILE | timeline FILE   (BENCH_ROUNDS=n, default 5)")
    exit(64)
}

/// Counts the events `TraceReader.nextEvents(to:)` hands over: the decode cost without an analyzer.
struct EventCounter: TraceEventVisitor {
    var count = 0
    @inline(__always) mutating func visit(_ event: TraceEvent) { count += 1 }
}
