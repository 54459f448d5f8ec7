// Positive: the caught cancellation leaves as a different error.
func notFound(path: String) async throws -> Body {
    do {
        return try await fileSystem.read(path)
    } catch {  // expect: catch-converts-cancellation
        throw HTTPError(.notFound)
    }
}

func wrapped(chunks: some AsyncSequence) async throws {
    do {
        for try await chunk in chunks { consume(chunk) }
    } catch let error {  // expect: catch-converts-cancellation
        throw WriterError(cause: error)
    }
}

func cancellationBecomesTimeout() async throws {
    do {
        try await work()
    } catch is CancellationError {  // expect: catch-converts-cancellation
        throw TimeoutError()
    }
}
