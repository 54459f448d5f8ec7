import TraceFormat

/// Thrown by `CancelTrace.withTimeout` when the operation did not finish in time and ended cancelled.
public struct TimeoutError: Error, CustomStringConvertible, Sendable {
    /// The time limit that passed.
    public let limit: Duration
    /// The operation's name.
    public let operation: String

    public var description: String { "\(operation) timed out after \(limit)" }
}

extension CancelTrace {
    /// Runs `operation` as a traced child task named `name` (or after the call site); if it has not finished after `limit`, cancels it
    /// (recorded with reason `timeout`, by the caller), waits for it to end and throws `TimeoutError` —
    /// asyncio's `wait_for`.
    ///
    /// The caller itself is not cancelled, so catching `TimeoutError` is correct usage. If the operation ignores
    /// its cancel and returns a value anyway, that value is returned (and the trace shows the ignored cancel).
    /// If the caller is cancelled, the operation is cancelled with it and `CancellationError` is thrown.
    public static func withTimeout<T: Sendable>(
        _ limit: Duration,
        name: String? = nil,
        priority: TaskPriority? = nil,
        fileID: StaticString = #fileID, line: UInt = #line, function: StaticString = #function,
        operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let caller = TaskRecord.current
        let site = CallSite(fileID: fileID, line: line, function: function)
        let record = isEnabled ? TaskRecord.spawn(name: name, site: site, how: .child, parent: caller) : nil
        let (result, timedOut) = await Swift.withTaskGroup(of: TimeoutRace<T>.self) { group in
            group.addTask(priority: priority) {
                do {
                    return .finished(.success(try await TaskRecord.run(record, operation)))
                } catch {
                    return .finished(.failure(error))
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: limit)
                    return .deadlinePassed
                } catch {
                    return .timerCancelled
                }
            }
            var timedOut = false
            while let next = await group.next() {
                switch next {
                case .deadlinePassed:
                    timedOut = true
                    record?.recordCancel(by: caller, reason: .timeout)
                    group.cancelAll()
                case .timerCancelled:
                    continue
                case let .finished(result):
                    group.cancelAll()
                    return (result, timedOut)
                }
            }
            preconditionFailure("the operation's child task always finishes")
        }
        if timedOut, case let .failure(error) = result, error is CancellationError {
            throw TimeoutError(limit: limit, operation: name ?? site.defaultName)
        }
        return try result.get()
    }
}

/// What finished first in `withTimeout`.
private enum TimeoutRace<T: Sendable>: Sendable {
    case finished(Result<T, any Error>)
    case deadlinePassed
    case timerCancelled
}
