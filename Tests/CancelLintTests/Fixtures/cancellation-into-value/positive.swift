// Positive: cancellation becomes a value inside a loop that goes on.
func collectAll(urls: [URL]) async -> [Data] {
    var results: [Data] = []
    for url in urls {
        let data = (try? await fetch(url)) ?? Data()  // expect: cancellation-into-value
        results.append(data)
    }
    return results
}

func gatherResults(jobs: [Job]) async -> [Result<Int, Error>] {
    var results: [Result<Int, Error>] = []
    var result: Result<Int, Error>
    for job in jobs {
        do {
            result = .success(try await job.run())
        } catch {  // expect: cancellation-into-value
            result = .failure(error)
        }
        results.append(result)
    }
    return results
}
