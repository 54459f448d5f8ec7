#if canImport(Glibc)
import Glibc
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// Diagnostics on stderr for both command-line tools.
///
/// Plain `write(2)` calls: `FileHandle.write(_:)` traps when the write fails (stderr closed, a full disk under a
/// redirect), and a tool reporting an error must not crash while doing so. A write that fails is dropped: there is
/// nowhere left to report it.
public enum StandardError {
    public static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { systemWrite(2, $0.baseAddress! + offset, $0.count - offset) }  // safe: offset < count, so the buffer is not empty
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
