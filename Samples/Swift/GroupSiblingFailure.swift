import TraceRecorder

/// asyncio.TaskGroup — in Swift, a throwing discarding group: one child fails, the group cancels its siblings
/// (reason: sibling failure, by main) and rethrows the failure once every child has ended.
///
///     async with asyncio.TaskGroup() as tg:
///         tg.create_task(worker(1))
///         tg.create_task(worker(2))
///         tg.create_task(failing())
enum GroupSiblingFailure {
    static func run() async throws {
        try await CancelTrace.withRootTask(name: "main") {
            // snippet: group-sibling-failure
            do {
                try await CancelTrace.withThrowingDiscardingTaskGroup { group in
                    group.addTask(name: "worker-1") { try await Task.sleep(for: .seconds(100)) }
                    group.addTask(name: "worker-2") { try await Task.sleep(for: .seconds(100)) }
                    group.addTask(name: "failing") {
                        try await Task.sleep(for: .milliseconds(10))
                        throw SensorOffline()
                    }
                }
            } catch is SensorOffline {
                CancelTrace.mark("group failed")
            }
            // end-snippet
        }
    }
}

/// The error the failing group child throws.
struct SensorOffline: Error {}
