// Negative: the helper rethrows; a call not awaited; a call on another object whose type is unknown.
final class Client {
    func start(other: Other) {
        Task {
            try await self.fetchAll()
            await other.handleConnection()
        }
    }

    func fetchAll() async throws {
        do {
            try await fetch()
        } catch {
            await log(error)
            throw error
        }
    }
}
