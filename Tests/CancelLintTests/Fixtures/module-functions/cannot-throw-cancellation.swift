// The module's own functions, read from their declarations: a catch around calls that cannot throw
// CancellationError is not a swallow, with no type checker. Each file of the corpus is one module.
enum ParseError: Error { case empty, tooLarge }

final class Parser {
    let network: Network

    // Throws only its own errors: nothing awaited under `try`, no cancellation check.
    func decode(_ bytes: [UInt8]) async throws -> Int {
        guard let first = bytes.first else { throw ParseError.empty }
        return Int(first)
    }

    // Typed throws cannot carry a CancellationError, whatever the body does.
    func validate(_ value: Int) async throws(ParseError) -> Int {
        guard value < 100 else { throw .tooLarge }
        return value
    }

    // Safe one call down: awaits only `decode` under `try`, and calls a synchronous helper of its own.
    func decodeChecked(_ bytes: [UInt8]) async throws -> Int {
        let value = try await self.decode(bytes)
        try checkRange(value)
        return value
    }

    func checkRange(_ value: Int) throws {
        if value < 0 { throw ParseError.tooLarge }
    }

    // Not flagged: every awaited call is a function above that cannot throw CancellationError.
    func parseOrNil(_ bytes: [UInt8]) async -> Int? {
        do {
            let value = try await decodeChecked(bytes)
            return try await validate(value)
        } catch {
            print("bad input: \(error)")
            return nil
        }
    }

    // Not flagged, and so the task below does not await a swallowing helper either.
    func parseAll(_ chunks: [[UInt8]]) async {
        for chunk in chunks {
            do {
                _ = try await self.decode(chunk)
            } catch {
                print("skipping: \(error)")
            }
        }
    }

    func start(_ chunks: [[UInt8]]) {
        Task { await self.parseAll(chunks) }
    }

    // Awaits only an EventLoopFuture's `get()`, which completes on its event loop whatever the task does.
    func connect() async throws -> Int {
        try await bootstrap.connect(host: "localhost", port: 80).get()
    }

    func connectOrNil() async -> Int? {
        do {
            return try await self.connect()
        } catch {
            return nil
        }
    }

    // Awaits the network under `try`: can throw CancellationError, so its callers' catches are judged as usual.
    func fetch() async throws -> [UInt8] {
        try await network.read()
    }

    // Checks cancellation itself, one synchronous call down.
    func step() throws {
        try Task.checkCancellation()
    }

    func stepAsync() async throws {
        try step()
    }

    func fetchOrEmpty() async -> [UInt8] {
        do {
            return try await fetch()
        } catch {  // expect: catch-swallows-cancellation
            return []
        }
    }

    func stepOrLog() async {
        do {
            try await stepAsync()
        } catch {  // expect: catch-swallows-cancellation
            print("step failed: \(error)")
        }
    }

    // One safe await and one that can throw it: the catch still receives CancellationError.
    func mixed() async -> Int {
        do {
            let bytes = try await fetch()
            return try await decode(bytes)
        } catch {  // expect: catch-swallows-cancellation
            return 0
        }
    }

    // `operation` is a parameter (a closure) here, whatever the function `operation()` below does.
    func run(operation: () async throws -> Void) async {
        do {
            try await operation()
        } catch {  // expect: catch-swallows-cancellation
            print("failed: \(error)")
        }
    }

    func operation() async throws {
        throw ParseError.empty
    }

    // Typed throws with a generic error: `E` may be CancellationError, and `body` is a closure.
    func attempt<E: Error>(_ body: () async throws(E) -> Void) async throws(E) {
        try await body()
    }

    func attemptOrLog(_ work: @escaping () async throws -> Void) async {
        do {
            try await attempt(work)
        } catch {  // expect: catch-swallows-cancellation
            print("failed: \(error)")
        }
    }

    // Two functions named `load`: one of them awaits the network, so `load()` may be that one.
    func load() async throws -> Int { 0 }
    func load(from url: String) async throws -> [UInt8] { try await network.get(url) }

    func loadOrZero() async -> Int {
        do {
            return try await load()
        } catch {  // expect: catch-swallows-cancellation
            return 0
        }
    }
}
