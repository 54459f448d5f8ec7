// A traced child process for the CLI tests.
//   canceltrace-crash-child TRACE_PATH: records marks "0", "1", "2", … from several tasks, forever, until the test
//     kills it with SIGKILL (CrashRecoveryTests).
//   canceltrace-crash-child --try-start TRACE_PATH: tries to start recording to TRACE_PATH; prints the error and
//     exits 0 when refused, exits 3 when it started (RecorderEdgeTests: one path, two processes).
//   canceltrace-crash-child --fork TRACE_PATH: records, forks, and has the child record 300,000 marks; exits 0 when
//     the child exited by itself, 4 when it hung and was killed (RecorderEdgeTests).
//   canceltrace-crash-child --file-size-limit TRACE_PATH: records under a 64 KiB RLIMIT_FSIZE until recording
//     stops, then prints "alive" and exits 0 (RecorderEdgeTests).
import Foundation
import TraceRecorder

let arguments = Array(CommandLine.arguments.dropFirst())
let mode = arguments.first?.hasPrefix("--") == true ? arguments[0] : "--forever"
let path = arguments.last ?? "crash.ctrace"

switch mode {
case "--try-start":
    do {
        try CancelTrace.start(path: path)
        CancelTrace.mark("second process")
        CancelTrace.finish()
        print("started")
        exit(3)
    } catch {
        print("refused: \(error)")
        exit(0)
    }
case "--fork":
    try CancelTrace.start(path: path, options: .init(chunkSize: 4096, maxPendingChunks: 2))
    for i in 0..<1000 { CancelTrace.mark(String(i)) }
    let child = fork()
    if child == 0 {
        for i in 0..<300_000 { CancelTrace.mark(String(i & 1023)) }
        CancelTrace.finish()
        let refused: Bool
        do {
            try CancelTrace.start(path: path + ".child")
            refused = false
        } catch {
            refused = true
        }
        _exit(refused ? 0 : 5)
    }
    var status: Int32 = 0
    var waited = 0
    // Up to 60 s for 300,000 cheap calls: only a hang takes that long. The hung child is killed, not left behind.
    while waitpid(child, &status, WNOHANG) == 0 {
        if waited >= 6_000 {
            kill(child, SIGKILL)
            waitpid(child, &status, 0)
            exit(4)
        }
        usleep(10_000)
        waited += 1
    }
    CancelTrace.mark("parent after fork")
    CancelTrace.finish()
    exit((status & 0x7f) == 0 ? (status >> 8) & 0xff : 6)
case "--file-size-limit":
    var limit = rlimit(rlim_cur: 64 << 10, rlim_max: 64 << 10)
    setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit)
    try CancelTrace.start(path: path, options: .init(chunkSize: 16 << 10, compressionLevel: 1))
    var i = 0
    // Distinct names compress badly, so 64 KiB fills after some ten thousand marks; stop after 5 M in any case.
    while CancelTrace.isEnabled && i < 5_000_000 {
        CancelTrace.mark("mark \(i) \(i &* 2_654_435_761)")
        i += 1
    }
    CancelTrace.finish()
    print(CancelTrace.isEnabled ? "still recording" : "alive")
    exit(0)
default:
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
}
