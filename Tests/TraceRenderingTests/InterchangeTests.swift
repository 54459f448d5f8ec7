import Foundation
import Samples
import Testing
import TraceAnalysis
import TraceFormat
@testable import TraceRendering

@Suite struct PerfettoTests {
    /// Checks what Perfetto and chrome://tracing need: every `b` has its `e`, async ids are unique, flows pair up.
    static func checkStructure(_ json: [UInt8], tasks: Int) throws -> [[String: Any]] {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        let events = try #require(document["traceEvents"] as? [[String: Any]])
        var open: [String: Double] = [:]
        var seenIDs = Set<String>()
        var flowStarts: [String: Double] = [:]
        var flowEnds: [String: Double] = [:]
        var threadNames = 0
        for event in events {
            let ph = try #require(event["ph"] as? String)
            let ts = event["ts"] as? Double ?? -1
            let id = event["id"] as? String ?? ""
            switch ph {
            case "b":
                #expect(!id.isEmpty && ts >= 0)
                #expect(seenIDs.insert(id).inserted, "async id \(id) is unique")
                open[id] = ts
            case "e":
                let begin = open.removeValue(forKey: id)
                #expect(begin != nil, "e without b for \(id)")
                #expect(ts >= (begin ?? 0))
            case "s":
                #expect(!id.isEmpty && ts >= 0)
                #expect(flowStarts.updateValue(ts, forKey: id) == nil, "flow \(id) starts once")
            case "f":
                #expect(flowEnds.updateValue(ts, forKey: id) == nil, "flow \(id) ends once")
                #expect(event["bp"] as? String == "e")
            case "i":
                #expect(event["s"] as? String == "t")
                #expect(ts >= 0)
            case "M":
                if event["name"] as? String == "thread_name" { threadNames += 1 }
            default:
                Issue.record("unexpected phase \(ph)")
            }
        }
        #expect(open.isEmpty, "every b has its e")
        #expect(seenIDs.count == tasks)
        #expect(threadNames == tasks)
        #expect(Set(flowStarts.keys) == Set(flowEnds.keys), "flows are paired")
        for (id, start) in flowStarts { #expect(flowEnds[id].map { $0 >= start } ?? false) }
        return events
    }

    @Test(arguments: Scenario.allCases)
    func everyScenarioExportsWellFormedTrackEvents(scenario: Scenario) throws {
        let report = try ExportFixtures.report(scenario)
        let events = try Self.checkStructure(PerfettoExporter().json(report, file: scenario.rawValue), tasks: report.tasks.count)
        let cancels = report.tasks.flatMap(\.cancels).count
        #expect(events.filter { $0["name"] as? String == "cancel requested" }.count == cancels)
        let flows = report.tasks.filter { task in task.cancels.contains { $0.by != 0 && $0.by != task.id } }.count
        #expect(events.filter { $0["ph"] as? String == "s" }.count >= flows)
        for finding in report.findings {
            #expect(events.contains { $0["name"] as? String == "\(finding.level.rawValue)[\(finding.rule)]" })
        }
    }

    @Test func instantsCoverCatchCleanupAndRethrow() throws {
        let report = try ExportFixtures.report(.cancelCleanupRethrow)
        let names = Set(try Self.checkStructure(PerfettoExporter().json(report, file: "t"), tasks: report.tasks.count)
            .compactMap { $0["name"] as? String })
        for name in ["cancel requested", "cancel sent", "caught", "cleanup begin", "cleanup end", "rethrow"] {
            #expect(names.contains(name), "\(name)")
        }
    }

    @Test func timesAreExactMicroseconds() throws {
        let report = try SyntheticTraces.report(SyntheticTraces.swallow())
        let text = String(decoding: PerfettoExporter().json(report, file: "t"), as: UTF8.self)
        #expect(text.contains("\"ts\":1001000"))
        #expect(try Self.checkStructure(Array(text.utf8), tasks: 3).count > 0)
    }

    @Test func theGzipIsWhatGunzipReads() throws {
        let report = try ExportFixtures.report(.swallowCatchAll)
        let exporter = PerfettoExporter()
        let compressed = try exporter.gzip(report, file: "t")
        #expect(Array(compressed.prefix(2)) == [0x1F, 0x8B])
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("perfetto-\(UUID().uuidString).json.gz")
        try Data(compressed).write(to: input)
        defer { try? FileManager.default.removeItem(at: input) }
        let gunzip = Process()
        gunzip.executableURL = URL(fileURLWithPath: "/bin/sh")
        gunzip.arguments = ["-c", "gzip -dc \"$0\"", input.path]
        let pipe = Pipe()
        gunzip.standardOutput = pipe
        try gunzip.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        gunzip.waitUntilExit()
        #expect(gunzip.terminationStatus == 0)
        #expect(Array(data) == exporter.json(report, file: "t"))
    }

    @Test func hostileNamesStayData() throws {
        let report = try ExportFixtures.hostileReport()
        let events = try Self.checkStructure(PerfettoExporter().json(report, file: "t"), tasks: 3)
        #expect(events.contains { ($0["args"] as? [String: Any])?["name"] as? String == "\(ExportFixtures.hostileName) #2" })
    }
}

@Suite struct SARIFTests {
    static let schema = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sarif-schema-2.1.0.json")

    static func document(_ report: AnalysisReport) throws -> [String: Any] {
        let text = SARIFRenderer(toolVersion: "0.1.0").render(report, file: "traces/app one.ctrace")
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test(arguments: Scenario.allCases)
    func oneResultPerFindingWithTheTaskAndTimes(scenario: Scenario) throws {
        let report = try ExportFixtures.report(scenario)
        let document = try Self.document(report)
        #expect(document["version"] as? String == "2.1.0")
        let run = try #require((document["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.compactMap { $0["id"] as? String } == Rules.all.map(\.id))
        let results = try #require(run["results"] as? [[String: Any]])
        #expect(results.count == report.findings.count)
        for (result, finding) in zip(results, report.findings) {
            #expect(result["ruleId"] as? String == finding.rule)
            #expect(result["level"] as? String == finding.level.rawValue)
            let properties = try #require(result["properties"] as? [String: Any])
            #expect((properties["task"] as? NSNumber)?.uint64Value == finding.task)
            #expect(properties["taskName"] as? String == finding.taskName)
            #expect((properties["timeNs"] as? NSNumber)?.uint64Value == finding.time)
            let index = try #require(result["ruleIndex"] as? Int)
            #expect(rules[index]["id"] as? String == finding.rule)
            if let cancel = finding.cancel {
                let cancelProperties = try #require(properties["cancel"] as? [String: Any])
                #expect((cancelProperties["timeNs"] as? NSNumber)?.uint64Value == cancel.time)
            }
        }
    }

    static var jsonschemaAvailable: Bool {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import jsonschema"]
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }

    /// Validates with Python's `jsonschema` against the OASIS schema shipped in Fixtures (Tests/ci-exports.sh runs
    /// the same check on CI, installing jsonschema when missing).
    @Test(.enabled(if: jsonschemaAvailable, "python3 with jsonschema is not installed"), arguments: Scenario.allCases)
    func theOutputIsValidSARIF(scenario: Scenario) throws {
        let text = SARIFRenderer(toolVersion: "0.1.0").render(try ExportFixtures.report(scenario), file: "app.ctrace")
        try expectValid(text)
    }

    @Test(.enabled(if: jsonschemaAvailable, "python3 with jsonschema is not installed"))
    func hostileNamesStayValidSARIF() throws {
        try expectValid(SARIFRenderer(toolVersion: "0.1.0").render(try ExportFixtures.hostileReport(), file: "a b\"c.ctrace"))
    }

    private func expectValid(_ text: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sarif-\(UUID().uuidString).json")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let validator = Process()
        validator.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        validator.arguments = ["python3", "-c", """
            import json, sys, jsonschema
            schema = json.load(open(sys.argv[1]))
            errors = list(jsonschema.Draft4Validator(schema).iter_errors(json.load(open(sys.argv[2]))))
            for e in errors: print(list(e.path), e.message)
            sys.exit(1 if errors else 0)
            """, Self.schema.path, file.path]
        let pipe = Pipe()
        validator.standardOutput = pipe
        try validator.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        validator.waitUntilExit()
        #expect(validator.terminationStatus == 0, "schema errors: \(output)")
    }
}

/// Issue 11 item 11: the Perfetto export streams, task by task as the analysis ends them.
@Suite struct PerfettoStreamingTests {
    @Test func theExportIsWrittenWhileTheTraceIsStillBeingRead() throws {
        let bytes = try SyntheticTraces.churn(count: 20_000)
        let reader = try TraceReader(bytes: bytes)
        var document: [UInt8] = []
        var eventsReadAtFirstPiece: Int?
        var stream = PerfettoStream(file: "churn") { piece in
            if eventsReadAtFirstPiece == nil { eventsReadAtFirstPiece = Int(reader.eventCount) }
            document += piece
        }
        let report = try TraceAnalyzer().analyze(reader, keepTasks: false, onTask: { task, now in stream.add(task, traceEnd: now) })
        stream.finish(findings: report.findings, info: report.info)
        #expect(report.tasks.isEmpty, "no task is kept for the export")
        let first = try #require(eventsReadAtFirstPiece)
        #expect(first < Int(reader.eventCount) / 2, "the first piece went out after \(first) of \(reader.eventCount) events")
        let events = try PerfettoTests.checkStructure(document, tasks: 20_001)
        #expect(events.filter { $0["ph"] as? String == "b" }.count == 20_001)
    }

    @Test func aStreamedExportMatchesTheOneFromAKeptReport() throws {
        let bytes = try SyntheticTraces.swallow()
        let kept = try SyntheticTraces.report(bytes)
        var streamed: [UInt8] = []
        var stream = PerfettoStream(file: "t") { streamed += $0 }
        let report = try TraceAnalyzer().analyze(TraceReader(bytes: bytes), onTask: { task, now in stream.add(task, traceEnd: now) })
        stream.finish(findings: report.findings, info: report.info)
        let a = try PerfettoTests.checkStructure(streamed, tasks: 3), b = try PerfettoTests.checkStructure(PerfettoExporter().json(kept, file: "t"), tasks: 3)
        #expect(a.count == b.count)
        #expect(Set(a.map { "\($0["ph"]!) \($0["name"]!) \($0["ts"] ?? "")" }) == Set(b.map { "\($0["ph"]!) \($0["name"]!) \($0["ts"] ?? "")" }))
    }
}
