// The bench's churn workload in plain Swift (no TraceRecorder): 50 k tasks, half of them cancelled, all awaited.
// Benchmarks/run-overhead.py compiles it with swiftc -O and times it alone and under the preload library.
// Prints the workload's wall time in nanoseconds.
#if canImport(Glibc)
import Glibc
#endif

func now() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}

func churnBody() async throws {
    await Task.yield()
    try Task.checkCancellation()
}

func churn(_ n: Int) async {
    var tasks: [Task<Void, any Error>] = []
    tasks.reserveCapacity(n)
    for _ in 0..<n { tasks.append(Task { try await churnBody() }) }
    for index in stride(from: 0, to: n, by: 2) { tasks[index].cancel() }
    for task in tasks { _ = await task.result }
}

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 50_000 : 50_000
await churn(1_000)  // warm up the thread pool
let start = now()
await churn(count)
print(now() - start)
