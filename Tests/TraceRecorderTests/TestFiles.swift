#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

private let fileCounter = Atomic<Int>(0)

/// A path in the temp directory that no other test uses.
func temporaryPath(_ label: String) -> String {
    let n = fileCounter.add(1, ordering: .relaxed).newValue
    return "/tmp/canceltrace-recorder-\(getpid())-\(label)-\(n).ctrace"
}

func removeFile(_ path: String) { unlink(path) }
