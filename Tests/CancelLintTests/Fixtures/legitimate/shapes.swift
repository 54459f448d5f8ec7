// The legitimate shapes from issue 14: none of them is a finding.

// A canceller awaiting the task it cancelled and catching its CancellationError.
func stopWorker(worker: Task<Void, Error>) async {
    worker.cancel()
    do {
        try await worker.value
    } catch {
        print("worker stopped")
    }
}

func stopWorkerQuietly(worker: Task<Void, Error>) async {
    worker.cancel()
    _ = try? await worker.value
    print("stopped")
}

// Cleanup, then `throw error`.
func closeThenRethrow(connection: Connection) async throws {
    do {
        try await connection.send(request)
    } catch {
        await connection.close()
        throw error
    }
}

// `guard !Task.isCancelled`.
func pollUntilCancelled() async {
    while true {
        try? await Task.sleep(for: .seconds(1))
        guard !Task.isCancelled else { return }
        refresh()
    }
}

// A `for await` loop that ends on cancel.
func consume(events: AsyncStream<Event>) async {
    for await event in events {
        handle(event)
    }
    print("stream ended")
}

// A group racing a deadline.
func withDeadline<T: Sendable>(_ timeout: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimeoutError()
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
