// Negative: cancellation passes through before the conversion, or only other errors are converted.
func passesCancellationThrough() async throws {
    do {
        try await work()
    } catch let error as CancellationError {
        throw error
    } catch {
        throw MyError.wrapped(error)
    }
}

func convertsOnlyItsOwnErrors() async throws {
    do {
        try await work()
    } catch let error as DecodingError {
        throw MyError.decoding(error)
    }
}

func rethrowsTheOuterError(body: () async throws -> Void, channel: Channel) async throws {
    do {
        try await body()
    } catch let bodyError {
        do {
            try await channel.closeQuietly()
            throw bodyError
        } catch {
            throw bodyError
        }
    }
}

// A cast is the same error under a static type (swift-async-algorithms' channels and FlatMapLatest).
func rethrowsWithACast<Failure: Error>(_ failure: Failure.Type) async throws(Failure) {
    do {
        try await work()
    } catch {
        throw error as! Failure
    }
}

func rethrowsWithAParenthesizedCast() async throws {
    do {
        try await work()
    } catch {
        throw (error as! SubprocessError)
    }
}
