import TraceFormat
import TraceRecorder

// Code that Docs/Instrumenting.md shows, compiled here so the page cannot drift from the API.
// InstrumentingDocTests checks that every `<!-- snippet: … -->` block in the page matches its region here or in
// Samples/Swift verbatim.

enum DocSnippets {
    static func startWithPath() async throws {
        // snippet: start-with-path
        try CancelTrace.start(path: "app.ctrace")
        defer { CancelTrace.finish() }

        try await CancelTrace.withRootTask(name: "main") {
            try await serve()
        }
        // end-snippet
    }

    static func startFromEnvironment() async throws {
        // snippet: start-from-environment
        try CancelTrace.startFromEnvironment()  // records only when CANCELTRACE_OUTPUT=path is set
        // end-snippet
    }

    static func manualEvents() async throws {
        // snippet: manual-events
        let downloader = CancelTrace.task(name: "downloader") {
            do {
                try await download()
            } catch let cancellation as CancellationError {
                CancelTrace.caught(cancellation)
                CancelTrace.cleanupBegin()
                removePartialFile()
                CancelTrace.cleanupEnd()
                CancelTrace.rethrow()
                throw cancellation
            }
        }
        // end-snippet
        downloader.cancel()
    }

    static func cancelWithReason(_ worker: Task<Void, any Error>) {
        // snippet: cancel-with-reason
        worker.cancel(reason: .shutdown)
        // end-snippet
    }

    static func recordInTests() async throws {
        // snippet: record-in-tests
        let trace = try await CancelTrace.record(into: InMemoryTrace()) {
            try await serve()
        }
        let reader = try TraceReader(bytes: trace.bytes)
        while let event = try reader.next() {
            print(event.kind)
        }
        // end-snippet
    }

    static func flightRecorder() async throws {
        // snippet: flight-recorder
        try CancelTrace.startFlightRecorder(
            CancelTrace.FlightRecorderConfiguration(path: "last-moments.ctrace", maxBytes: 8 << 20, maxAge: .seconds(30))
        )
        try await CancelTrace.withRootTask(name: "main") {
            do {
                try await serve()
            } catch {
                try CancelTrace.writeFlightRecording()  // the last ≤ 8 MiB / 30 s before the failure
                throw error
            }
        }
        // end-snippet
    }

    static func handWrittenTimeout(_ url: String, deadline: Duration) async throws -> [UInt8]? {
        // snippet: hand-written-timeout
        try await CancelTrace.withThrowingTaskGroup(of: [UInt8]?.self) { group in
            group.addTask(name: "fetch") { try await fetch(url) }
            group.addTask(name: "deadline") { try await Task.sleep(for: deadline); return nil }
            let first = try await group.next()!
            group.cancelAll()  // the loser's CancellationError is discarded, as with withThrowingTaskGroup
            return first
        }
        // end-snippet
    }

    static func catchIsCancellation() async {
        // snippet: catch-is-cancellation
        do {
            try await download()
        } catch is CancellationError {
            CancelTrace.caught()
            CancelTrace.rethrow()  // (when it does)
        } catch {
            report(error)
        }
        // end-snippet
    }

    static func partialResults(_ pages: [String]) async -> [String] {
        // snippet: stopping
        var results: [String] = []
        for page in pages {
            guard !Task.isCancelled else {
                CancelTrace.stopping()  // an early return on purpose, not a missed cancellation
                return results
            }
            results.append(await render(page))
        }
        return results
        // end-snippet
    }

    static func serve() async throws {}
    static func render(_ page: String) async -> String { page }
    static func fetch(_ url: String) async throws -> [UInt8] { [] }
    static func report(_ error: any Error) {}
    static func download() async throws {}
    static func removePartialFile() {}
}

// snippet: main-actor-model
@MainActor final class Poller {
    var items: [String] = []
    var polling: Task<Void, Never>?  // a traced task is a Task

    func start() {
        polling = CancelTrace.task {  // named after this line; runs on the main actor, like Task { }
            while !Task.isCancelled {
                self.items.append(await DocSnippets.poll())  // main-actor state, as in Task { }
                try? await Task.sleep(for: .seconds(1))
            }
            CancelTrace.stopping()  // the loop ended on the cancel, on purpose: recorded, so `check` agrees
        }
    }

    func stop() { polling?.cancel() }  // recorded: cancelled by the current traced task
}
// end-snippet

extension DocSnippets {
    static func poll() async -> String { "" }
}
