// Negative: legitimate shapes around catches.
func cleanupThenRethrow() async throws {
    do {
        try await work()
    } catch {
        await cleanup()
        throw error
    }
}

func checksCancellation() async {
    do {
        try await work()
    } catch {
        if Task.isCancelled { return }
        print("retrying after \(error)")
    }
}

func testsForCancellationError() async throws {
    do {
        try await work()
    } catch is CancellationError {
        throw CancellationError()
    } catch {
        print("\(error)")
        throw error
    }
}

func explicitCatchThatStops() async {
    do {
        try await work()
    } catch is CancellationError {
        return
    } catch let error as MyError {
        print(error)
    } catch {
        fatalError("unexpected \(error)")
    }
}

func catchOnlyOtherErrors() async {
    do {
        try await work()
    } catch let error as MyError {
        print(error)
    }
}

func handsOn(promise: EventLoopPromise<Void>) async {
    do {
        try await work()
        promise.succeed(())
    } catch {
        promise.fail(error)
    }
}

func resumesContinuation(continuation: CheckedContinuation<Int, Error>) async {
    do {
        continuation.resume(returning: try await compute())
    } catch {
        continuation.resume(throwing: error)
    }
}

func storesForLater() async throws {
    var saved: Error?
    do {
        try await work()
    } catch {
        saved = error
    }
    await cleanup()
    if let saved { throw saved }
}

func returnsTheErrorAsAValue() async -> Outcome {
    do {
        try await work()
        return .finished
    } catch {
        return .threw(error)
    }
}

func noThrowingAwait() async {
    do {
        try validate()
        await work()
    } catch {
        print(error)
    }
}

func onlyFutures(future: EventLoopFuture<Void>, group: EventLoopGroup) async {
    do {
        try await future.get()
        try await group.shutdownGracefully()
    } catch {
        print("\(error)")
    }
}

func awaitInNewTaskOnly() async {
    do {
        try check()
        Task { try await work() }
    } catch {
        print(error)
    }
}

func timerThatEndsOnCancel() async {
    do {
        try await Task.sleep(for: .seconds(30))
        print("timed out")
    } catch {
        // cancelled: the timer is no longer needed
    }
}

func testAssertsTheError() async {
    do {
        try await work()
        XCTFail("expected an error")
    } catch {
        XCTAssertEqual(error as? MyError, .failed)
    }
}

func swiftTestingExpects() async {
    do {
        try await work()
    } catch {
        #expect(error is MyError)
    }
}

func whereClauseIsNotGuessed() async {
    do {
        try await work()
    } catch where !(error is CancellationError) {
        print(error)
    }
}

func forwardsToWriter(writer: Writer) async {
    do {
        try await produce(writer)
    } catch {
        try? await writer.write(.error(error))
    }
}

func testExpectsAThrow() async {
    do {
        try await connect(to: "ws://localhost:1/none")
        XCTFail("should have failed")
    } catch {
        // pass
    }
}

func fireAndForget() {
    Task {
        do {
            try await upload()
        } catch {
            return  // nobody holds the task: how it ends is not observable
        }
    }
}

func fireAndForgetLoopThatReturns(parts: [Part]) {
    Task {
        for part in parts {
            do {
                try await write(part)
            } catch {
                return  // the loop stops, and nobody holds the task
            }
        }
        finished()
    }
}

// Handed on from a closure that runs now, or as a cast (swift-async-algorithms' FlatMapLatest and share()).
func handsOnUnderALock(lock: Lock, state: StateMachine) async {
    do {
        try await work()
    } catch {
        let action = lock.withLock { state.outerThrew(error) }
        handle(action)
    }
}

func emitsTheCastError<Failure: Error>(_ failure: Failure.Type) async {
    do {
        try await work()
    } catch {
        emit(.failure(error as! Failure))
    }
}

// The catch clears the flag the loop tests: the loop stops (grpc-swift-nio-transport's resolver loop).
func stopsItsLoop(resolver: Resolver) async {
    var continueResolving = true
    while continueResolving {
        await resolver.resolve()
        do {
            try await Task.sleep(for: .seconds(1))
        } catch {
            continueResolving = false
        }
    }
}

// A child of a non-throwing discarding group: it cannot throw, and nobody sees how it ends.
func discardingGroupChild(inbound: Inbound) async {
    await withDiscardingTaskGroup { group in
        group.addTask {
            do {
                for try await _ in inbound {}
            } catch {
                return
            }
        }
    }
}
