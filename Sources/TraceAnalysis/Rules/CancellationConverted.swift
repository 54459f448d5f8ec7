import TraceFormat

/// The task caught its own cancellation and ended with a different error.
public struct CancellationConverted: Rule, PrefilteredRule {
    public let id = "cancellation-converted"
    public let defaultLevel = Level.warning
    public let summary = "cancellation caught, task ended with a different error"
    public let explanation = """
        The task caught its own cancellation and then failed with another error. Callers that treat cancellation \
        specially (task groups, shutdown code, `asyncio.wait_for`) now see a failure instead. A timeout that turns \
        its own cancel into a timeout error is legitimate and not reported: the recorder withdraws that cancel \
        (`uncancel`), and a cancel with reason `timeout` that ends in an error whose type names a timeout is excepted.
        """
    public let help = "let the cancellation error propagate; if another error must be raised, raise it only when the task was not cancelled"
    public let pythonHelp: String? = "let CancelledError propagate (`raise` after cleanup); raise another error only when the task was not cancelled (`asyncio.current_task().cancelling() == 0` on 3.11+)"

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        guard let end = task.end, end.outcome == .failed, let cancel = task.effectiveCancel else { return [] }
        if cancel.reason == .timeout && Self.namesATimeout(end.errorType) { return [] }
        let error = end.errorType.isEmpty ? "another error" : end.errorType
        if let caught = task.catchesOfEffectiveCancel.last {
            return [finding(task, in: context, time: end.time,
                            message: "\(label: task) caught \(caught.errorType.isEmpty ? "its cancellation" : caught.errorType) at \(seconds: caught.time) and ended with \(error) at \(seconds: end.time)",
                            cancel: cancel)]
        }
        // Without a recorded catch: the cancellation error reached the task's code, which then failed otherwise.
        if let signal = task.lastSignalOfEffectiveCancel, signal.what == .received {
            let via = signal.via.isEmpty ? "" : " from \(signal.via)"
            return [finding(task, in: context, time: end.time,
                            message: "\(label: task) received CancellationError\(via) at \(seconds: signal.time) and ended with \(error) at \(seconds: end.time)",
                            cancel: cancel)]
        }
        return []
    }

    /// `errorType.lowercased().contains("timeout")`, without building the lowercased copy for the usual ASCII
    /// type name (there, lowercasing changes only A–Z, and each character is one byte).
    static func namesATimeout(_ errorType: String) -> Bool {
        let ascii = errorType.utf8.withContiguousStorageIfAvailable { bytes -> Bool? in
            bytes.allSatisfy { $0 < 0x80 } ? containsTimeoutIgnoringCase(bytes) : nil
        } ?? nil
        return ascii ?? errorType.lowercased().contains("timeout")
    }

    private static func containsTimeoutIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let word: StaticString = "timeout"
        let length = word.utf8CodeUnitCount
        guard bytes.count >= length else { return false }
        candidates: for start in 0...(bytes.count - length) {
            for k in 0..<length {
                var byte = bytes[start + k]
                if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { byte |= 0x20 }
                if byte != word.utf8Start[k] { continue candidates }
            }
            return true
        }
        return false
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        task.hasEnd && task.outcome == .failed && task.hasEffectiveCancel && (task.hasCatch || task.hasSignal)
    }
}
