// Negative: a default outside a loop, a loop that checks, a Result handed to the caller.
func once(url: URL) async -> Data {
    (try? await fetch(url)) ?? Data()
}

func loopChecks(urls: [URL]) async -> [Data] {
    var results: [Data] = []
    for url in urls {
        if Task.isCancelled { break }
        results.append((try? await fetch(url)) ?? Data())
    }
    return results
}

func resultReturned(job: Job) async -> Result<Int, Error> {
    do {
        return .success(try await job.run())
    } catch {
        return .failure(error)
    }
}

func resultStoredThenRethrown(job: Job) async throws -> Int {
    let result: Result<Int, Error>
    do {
        result = .success(try await job.run())
    } catch {
        result = .failure(error)
    }
    await cleanup()
    return try result.get()
}

func nonThrowingDefault(values: [Int]) async -> [Int] {
    var out: [Int] = []
    for value in values {
        out.append((try? parse(value)) ?? 0)
    }
    return out
}
