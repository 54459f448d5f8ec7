// A traced process for CrashRecoveryTests: records marks "0", "1", "2", … from several tasks, forever, until the
// test kills it with SIGKILL. Usage: canceltrace-crash-child TRACE_PATH
import Foundation
import TraceRecorder

let path = CommandLine.arguments.dropFirst().first ?? "crash.ctrace"
try CancelTrace.start(path: path, options: .init(flushInterval: .milliseconds(10)))
await CancelTrace.withRootTask(name: "main") {
    // Each task records its own sequence; the test checks that each one read back has no gaps.
    await withTaskGroup(of: Void.self) { group in
        for worker in 0..<4 {
            group.addTask {
                let task = CancelTrace.task(name: "worker-\(worker)") {
                    var i = 0
                    while true {
                        CancelTrace.mark(String(i))
                        i += 1
                        if i % 64 == 0 { await Task.yield() }
                    }
                }
                _ = await task.result
            }
        }
    }
}
