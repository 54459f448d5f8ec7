import Foundation
import Testing
import TraceFormat

/// The version lives in `CancelTraceVersion`; the Python package, which cannot import it, must say the same.
@Suite struct VersionTests {
    @Test func thePythonPackageHasTheSameVersion() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("python/canceltrace/_version.py")
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains("__version__ = \"\(CancelTraceVersion.current)\""), "\(text)")
    }
}
