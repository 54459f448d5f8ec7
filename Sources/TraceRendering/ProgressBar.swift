import Foundation

/// A one-line progress bar for reading a large trace, redrawn in place on a terminal.
///
/// The command decides whether to show it (stderr is a terminal, no `--quiet`); the bar itself waits `delay`
/// before drawing, so a small file never flickers, redraws at most every 100 ms, and erases itself when done.
public final class ProgressBar {
    public let total: UInt64
    private let label: String
    private let delay: TimeInterval
    private let write: (String) -> Void
    private let started = Date()
    private var lastDraw: Date?
    private var drawn = false

    /// - Parameters:
    ///   - total: the file's size in bytes.
    ///   - write: where the bar goes (stderr in the CLI).
    public init(total: UInt64, label: String, delay: TimeInterval = 0.3, write: @escaping (String) -> Void) {
        self.total = total
        self.label = label
        self.delay = delay
        self.write = write
    }

    public func update(bytesRead: UInt64) {
        let now = Date()
        guard now.timeIntervalSince(started) >= delay else { return }
        if let lastDraw, now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        drawn = true
        write("\r" + Self.line(label: label, done: bytesRead, total: total, width: 30) + "\u{1B}[K")
    }

    /// Erases the bar, if it was drawn.
    public func finish() {
        if drawn { write("\r\u{1B}[K") }
        drawn = false
    }

    /// `reading app.ctrace [██████░░░░] 61%  80.0 / 131.2 MiB`
    public static func line(label: String, done: UInt64, total: UInt64, width: Int) -> String {
        let fraction = total == 0 ? 1 : min(1, Double(done) / Double(total))
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        return "reading \(TerminalText.escape(label, maxCharacters: 40)) [\(bar)] \(Int((fraction * 100).rounded(.down)))%  \(mebibytes(done)) / \(mebibytes(total)) MiB"
    }

    private static func mebibytes(_ bytes: UInt64) -> String {
        let tenths = Int((Double(bytes) / 1_048_576 * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
