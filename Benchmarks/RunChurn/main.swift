// The bench's churn workload in plain Swift (no TraceRecorder): 50 k tasks, half of them cancelled, all awaited.
// Benchmarks/run-overhead.py compiles it with swiftc -O and times it alone and under the preload library.
// With a second argument THREADS, the tasks are spawned and cancelled from that many OS threads at once (each its
// share; the bench's churn-threads), so the hooks run on that many threads. Prints the workload's wall time in
// nanoseconds.
#if canImport(Glibc)
import Glibc
#endif
import Dispatch

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

/// `count` tasks spawned, half cancelled and awaited from `threads` OS threads at once.
func churnFromThreads(_ count: Int, threads: Int) {
    var handles: [pthread_t] = []
    for _ in 0..<threads {
        var handle = pthread_t()
        let share = count / threads
        let context = Unmanaged.passRetained(Box(share)).toOpaque()
        pthread_create(&handle, nil, { context in
            let share = Unmanaged<Box<Int>>.fromOpaque(context!).takeRetainedValue().value
            var tasks: [Task<Void, any Error>] = []
            tasks.reserveCapacity(share)
            for _ in 0..<share { tasks.append(Task { try await churnBody() }) }
            for index in stride(from: 0, to: share, by: 2) { tasks[index].cancel() }
            let done = DispatchSemaphore(value: 0)
            let all = tasks
            Task {
                for task in all { _ = await task.result }
                done.signal()
            }
            done.wait()
            return nil
        }, context)
        handles.append(handle)
    }
    for handle in handles { pthread_join(handle, nil) }
}

final class Box<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

let count = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 50_000 : 50_000
let threads = CommandLine.arguments.count > 2 ? Int(CommandLine.arguments[2]) ?? 0 : 0
await churn(1_000)  // warm up the thread pool
let start = now()
if threads > 0 { churnFromThreads(count, threads: threads) } else { await churn(count) }
print(now() - start)
