// Positive: a task awaits a helper of the same module that swallows, directly or one call down.
final class Server {
    func start() {
        Task {
            await self.handleConnection()  // expect: task-calls-swallowing-helper
        }
        Task {
            await serveForever()  // expect: task-calls-swallowing-helper
        }
    }

    func handleConnection() async {
        do {
            try await readRequests()
        } catch {  // expect: catch-swallows-cancellation
            print("connection failed: \(error)")
        }
    }

    func serveForever() async {
        await handleConnection()
    }
}
