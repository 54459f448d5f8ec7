import TraceFormat

/// Every built-in rule's prefilter (`PrefilteredRule.mayReport`) in one inlined call, for `TraceAnalyzer`'s
/// ended tasks: which built-in rules may report the task, as bits, so that only those are asked.
///
/// Asking each enabled rule through its metatype was nine indirect calls per task that is not quiet, each a
/// mispredicted jump (one call site, nine targets), and then every rule was called on each task that passed; here
/// each rule's own `mayReport` is called directly and inlined, and the optimizer shares the tests they have in
/// common. The logic stays in each rule's file.
///
/// Asking every built-in rule, enabled or not, is a valid filter for any set of them: a filter may say "may
/// report" more often than needed, never less (`PrefilteredRule`). A rule added to `Rules.all` and not here would
/// lose its findings on this path: `CompactAnalysisTests` compares it with every rule on every lifecycle.
struct BuiltInPrefilter: Sendable {
    private let slowCancellation: UInt64
    private let slowCleanup: UInt64

    /// The built-in rules with a prefilter, in the order of `mayReport`'s bits.
    private static let order: [ObjectIdentifier] = [
        SwallowedCancellation.self, ReturnedAfterCancellationError.self, CancellationConverted.self,
        FailedAfterCancel.self, CompletedAfterCancel.self, SlowCancellation.self, CleanupFailed.self,
        SlowCleanup.self, LeakedTask.self,
    ].map { ObjectIdentifier($0 as any PrefilteredRule.Type) }

    /// The rules' thresholds from `configuration`, looked up once per analysis.
    init(configuration: RuleConfiguration) {
        slowCancellation = configuration.threshold(for: SlowCancellation())
        slowCleanup = configuration.threshold(for: SlowCleanup())
    }

    /// The bit `mayReport` sets when `rule` may report; every bit for a rule that is not built in.
    static func bit(for rule: any Rule) -> UInt16 {
        guard let index = order.firstIndex(of: ObjectIdentifier(type(of: rule))) else { return .max }
        return 1 << index
    }

    /// The built-in rules that may report `task` (`bit(for:)`), an ended task that is not `isQuiet`, read in its
    /// slot; 0 when none may.
    @inline(__always)
    func mayReport(on task: UnsafePointer<CompactTask>) -> UInt16 {
        var bits: UInt16 = 0
        if SwallowedCancellation.mayReport(on: task.pointee, threshold: 0) { bits |= 1 << 0 }
        if ReturnedAfterCancellationError.mayReport(on: task.pointee, threshold: 0) { bits |= 1 << 1 }
        if CancellationConverted.mayReport(on: task.pointee, threshold: 0) { bits |= 1 << 2 }
        if FailedAfterCancel.mayReport(on: task.pointee, threshold: 0) { bits |= 1 << 3 }
        if CompletedAfterCancel.mayReport(on: task.pointee, threshold: 0) { bits |= 1 << 4 }
        if SlowCancellation.mayReport(on: task.pointee, threshold: slowCancellation) { bits |= 1 << 5 }
        if CleanupFailed.mayReport(on: task.pointee, threshold: 0) { bits |= 1 << 6 }
        if SlowCleanup.mayReport(on: task.pointee, threshold: slowCleanup) { bits |= 1 << 7 }
        if LeakedTask.mayReport(on: task.pointee, threshold: 0) { bits |= 1 << 8 }
        return bits
    }
}
