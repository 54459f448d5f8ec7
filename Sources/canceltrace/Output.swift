#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser

/// Where a command's output goes — stdout or an `-o` file — written with `write(2)` and checked, so that a full
/// disk, a file-size limit or a closed stdout is one error line and exit status 2, never a silent success.
///
/// A regular file (or a new one) is written to a temporary file beside it and renamed over it by `commit()`, so
/// a reader never sees half an output; a symlink is resolved first, so the link stays and its target is replaced.
/// Anything else that exists — a FIFO, a device, a socket — is written through, never replaced by a file.
final class Output {
    private var fd: Int32
    /// The name in error lines.
    private let name: String
    /// The temporary file renamed to `destination` by `commit()`.
    private var temporary: [CChar]?
    private var destination: [CChar]?

    private init(fd: Int32, name: String, temporary: [CChar]? = nil, destination: [CChar]? = nil) {
        Self.fileSizeLimitIsAnError
        self.fd = fd
        self.name = name
        self.temporary = temporary
        self.destination = destination
    }

    deinit {
        if fd > 2 { _ = close(fd) }
        if let temporary { _ = unlink(temporary) }
    }

    /// Past a file-size limit (`ulimit -f`) a write fails with EFBIG instead of the process being killed by
    /// SIGXFSZ, so the limit is reported like a full disk.
    private static let fileSizeLimitIsAnError: Void = { _ = signal(SIGXFSZ, SIG_IGN) }()

    static var standardOutput: Output { Output(fd: STDOUT_FILENO, name: "stdout") }

    /// Writes `text` and a newline to stdout.
    static func printLine(_ text: String) throws { try standardOutput.write(text + "\n") }

    /// Opens `path` for the output (`-` is stdout). Refuses, with exit status 2, a path that is the input trace.
    static func open(_ path: String, input: String) throws -> Output {
        if path == "-" { return standardOutput }
        let name = path
        var target = CommandLineBytes.path(path)
        var status = stat()
        if lstat(target, &status) == 0, (status.st_mode & S_IFMT) == S_IFLNK, let resolved = realpath(target, nil) {
            target = Array(UnsafeBufferPointer(start: resolved, count: strlen(resolved) + 1))
            free(resolved)
        }
        var inputStatus = stat()
        let exists = stat(target, &status) == 0
        if exists, stat(CommandLineBytes.path(input), &inputStatus) == 0,
           status.st_dev == inputStatus.st_dev, status.st_ino == inputStatus.st_ino {
            throw TraceInput.fail(name, "cannot write the output over the trace it reads; choose another -o")
        }
        if exists && (status.st_mode & S_IFMT) != S_IFREG {
            // A FIFO, device or socket: write through it.
            let fd = systemOpen(target, O_WRONLY | O_CLOEXEC)
            if fd < 0 { throw TraceInput.fail(name, "cannot open: \(lastError())") }
            return Output(fd: fd, name: name)
        }
        var template = Self.temporaryName(beside: target)
        let fd = mkstemp(&template)
        if fd < 0 { throw TraceInput.fail(name, "cannot write: \(lastError())") }
        let mask = umask(0)
        umask(mask)
        _ = fchmod(fd, exists ? status.st_mode & 0o7777 : 0o666 & ~mask)
        return Output(fd: fd, name: name, temporary: template, destination: target)
    }

    func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < buffer.count {
            let n = systemWrite(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw TraceInput.fail(name, "cannot write: \(lastError())")
            }
            offset += n
        }
    }

    /// Puts a file output in place (renames the temporary file over the destination).
    func commit() throws {
        guard let temporary, let destination else { return }
        if close(fd) != 0 { throw TraceInput.fail(name, "cannot write: \(lastError())") }
        fd = -1
        if rename(temporary, destination) != 0 { throw TraceInput.fail(name, "cannot write: \(lastError())") }
        self.temporary = nil
    }

    private static func temporaryName(beside path: [CChar]) -> [CChar] {
        let bytes = path.prefix { $0 != 0 }
        let slash = bytes.lastIndex(of: CChar(UInt8(ascii: "/")))
        let folder = slash.map { Array(bytes[...$0]) } ?? []
        let base = slash.map { Array(bytes[($0 + 1)...]) } ?? Array(bytes)
        return folder + Array(".".utf8CString.dropLast()) + base.prefix(100) + Array(".tmp-XXXXXX".utf8CString)
    }
}

private func lastError() -> String { String(cString: strerror(errno)) }

#if canImport(Glibc)
private func systemOpen(_ path: [CChar], _ flags: Int32) -> Int32 { Glibc.open(path, flags) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Glibc.write(fd, buffer, count) }
#else
private func systemOpen(_ path: [CChar], _ flags: Int32) -> Int32 { Darwin.open(path, flags) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { Darwin.write(fd, buffer, count) }
#endif

/// The bytes of the command line's arguments: a file name that is not UTF-8 reaches the commands as a `String`
/// with U+FFFD in place of its bad bytes, and only the original bytes open the file.
enum CommandLineBytes {
    /// The original bytes (NUL-terminated) of the argument that decodes to `argument`; its UTF-8 when none does.
    static func path(_ argument: String) -> [CChar] {
        for index in 1..<Int(CommandLine.argc) {
            guard let raw = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeBufferPointer(start: raw, count: strlen(raw) + 1)
            let text = String(decoding: UnsafeRawBufferPointer(bytes).dropLast(), as: UTF8.self)
            if text == argument { return Array(bytes) }
        }
        return Array(argument.utf8CString)
    }
}
