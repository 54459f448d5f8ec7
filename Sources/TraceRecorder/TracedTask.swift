import TraceFormat

/// A task started by `CancelTrace.task` or `CancelTrace.detached`: a `Task` whose cancel records who asked and why.
public struct TracedTask<Success: Sendable>: Sendable {
    /// The underlying task.
    public let task: Task<Success, any Error>
    let record: TaskRecord?

    init(task: Task<Success, any Error>, record: TaskRecord?) {
        self.task = task
        self.record = record
    }

    /// The task's id in the trace; 0 when recording was off when it started.
    public var id: TaskID { record?.id ?? 0 }

    /// The task's value; throws what the task threw (`CancellationError` when it was cancelled and said so).
    public var value: Success {
        get async throws { try await task.value }
    }

    /// The task's result.
    public var result: Result<Success, any Error> {
        get async { await task.result }
    }

    /// Whether cancellation was requested.
    public var isCancelled: Bool { task.isCancelled }

    /// Records a cancel request by the current traced task for `reason`, then cancels the task.
    public func cancel(reason: CancelReason = .explicit) {
        record?.recordCancel(by: TaskRecord.current, reason: reason)
        task.cancel()
    }
}
