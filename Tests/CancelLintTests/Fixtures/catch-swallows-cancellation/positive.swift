// Positive: a catch that can catch CancellationError, neither rethrows nor checks, and goes on.
func logsAndReturns() async {
    do {
        try await server.run()
    } catch {  // expect: catch-swallows-cancellation
        logger.error("server failed: \(error)")
    }
}

func loopGoesOn() async {
    for job in jobs {
        do {
            try await job.run()
        } catch let error {  // expect: catch-swallows-cancellation
            print("job failed: \(error)")
        }
    }
}

func workAfter() async {
    do {
        try await download()
    } catch {  // expect: catch-swallows-cancellation
        print("\(error)")
    }
    await processDownloads()
}

func explicitCancellationInLoop() async {
    while true {
        do {
            try await step()
        } catch is CancellationError {  // expect: catch-swallows-cancellation
            print("cancelled, going on")
        } catch {
            return
        }
    }
}

func typedClauseFirstThenCatchAll() async -> Int? {
    do {
        return try await compute()
    } catch let error as DecodingError {
        throw error
    } catch {  // expect: catch-swallows-cancellation
        return nil
    }
}

func sleepThenMoreWork() async {
    do {
        try await Task.sleep(for: .seconds(1))
    } catch {  // expect: catch-swallows-cancellation
    }
    await expensiveWork()
}

func keptTask() -> Task<Void, Never> {
    let task = Task {
        do {
            try await upload()
        } catch {  // expect: catch-swallows-cancellation
            print("\(error)")
        }
    }
    return task
}

func catchReturnsSoItReturnsNormally() async -> Bool {
    for attempt in 0..<3 {
        do {
            try await send(attempt)
        } catch {  // expect: catch-swallows-cancellation
            return false
        }
    }
    return true
}

// A `throw error` inside a closure is the closure's, not the catch's: the catch itself goes on.
func rethrowsOnlyInsideAClosure(queue: Queue) async {
    do {
        try await work()
    } catch {  // expect: catch-swallows-cancellation
        queue.async { print("failed"); _ = { () throws in throw error } }
    }
}

// Clearing some other flag does not stop the loop.
func clearsAnotherFlag(connection: Connection) async {
    var healthy = true
    while true {
        do {
            try await connection.ping()
        } catch {  // expect: catch-swallows-cancellation
            healthy = false
        }
        report(healthy)
    }
}
