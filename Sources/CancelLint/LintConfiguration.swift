import TraceAnalysis

/// Rule levels and the calls known to throw CancellationError when their task is cancelled.
public struct LintConfiguration: Sendable {
    /// Overrides by rule id; `.some(nil)` turns a rule off.
    public var levels: [String: Level?] = [:]
    /// Calls that throw CancellationError on cancellation (rule `try-optional-cancellable`). An entry is matched
    /// against the called expression: `Task.sleep` (the whole callee), `sleep(for:)` (last name and first
    /// argument label) or `sleep` (last name).
    public var cancellableCalls: [String] = LintConfiguration.defaultCancellableCalls

    /// Awaits that never throw CancellationError, so a catch around only these cannot swallow one: SwiftNIO's
    /// `EventLoopFuture.get()` and event-loop shutdowns complete on the loop, whatever the task does.
    public var uncancellableCalls: [String] = ["get()", "shutdownGracefully", "syncShutdownGracefully"]

    public static let defaultCancellableCalls = [
        "Task.sleep", "Task.checkCancellation", "sleep(for:)", "sleep(until:)", "sleep(nanoseconds:)",
    ]

    public init() {}

    /// The level a rule reports at, or nil when it is off.
    public func level(for rule: LintRule) -> Level? {
        if let override = levels[rule.id] { return override }
        return rule.defaultLevel
    }
}
