import Testing
import TraceAnalysis
import TraceFormat

/// Traces that decode cleanly but describe impossible task trees: the analysis must terminate, never trap, and keep
/// memory within its documented bounds (Docs/Reliability.md).
@Suite struct AdversarialTraceTests {
    @Test func aParentChain100kDeepIsAnalyzedWithoutRecursion() throws {
        let depth: UInt64 = 100_000
        let report = try analyze(chunkSize: 64 << 10) { builder in
            let name = builder.string("nested")
            for id in 1...depth { try builder.append(.spawn(time: id, task: id, parent: id - 1, name: name, how: .child)) }
            for id in (1...depth).reversed() { try builder.append(.end(time: 2 * depth - id, task: id, outcome: .returned)) }
            try builder.close(time: 2 * depth)
        }
        #expect(report.stats.tasks == Int(depth))
        #expect(report.stats.peakLiveTasks == Int(depth))
        #expect(report.tasks.count == Int(depth))
        #expect(report.findings.isEmpty)
    }

    @Test func cyclesInParentIdsTerminate() throws {
        let report = try analyze { builder in
            // 1 → 3 → 2 → 1, and 4 is its own parent; 1 cancels 2, 4 cancels itself.
            try builder.append(.spawn(time: 1, task: 1, parent: 3, name: builder.string("a"), how: .child))
            try builder.append(.spawn(time: 2, task: 2, parent: 1, name: builder.string("b"), how: .child))
            try builder.append(.spawn(time: 3, task: 3, parent: 2, name: builder.string("c"), how: .child))
            try builder.append(.spawn(time: 4, task: 4, parent: 4, name: builder.string("self"), how: .child))
            try builder.append(.cancel(time: 5, task: 2, by: 1, reason: .parent))
            try builder.append(.cancel(time: 5, task: 4, by: 4, reason: .explicit))
            try builder.append(.caught(time: 6, task: 2, error: builder.string("CancellationError")))
            try builder.append(.end(time: 7, task: 2, outcome: .returned))
            try builder.close(time: 8)
        }
        #expect(report.tasks.map(\.id) == [1, 2, 3, 4])
        #expect(report.tasks.map(\.parent) == [3, 1, 2, 4])
        #expect(report.findings.contains { $0.rule == "swallowed-cancellation" && $0.task == 2 })
        #expect(report.findings.filter { $0.rule == "leaked-task" }.map(\.task) == [1, 3, 4])
    }

    @Test func aDuplicateSpawnReplacesTheLiveTaskAndIsCounted() throws {
        let report = try analyze { builder in
            try builder.append(.spawn(time: 1, task: 7, parent: 0, name: builder.string("first"), how: .root))
            try builder.append(.spawn(time: 2, task: 7, parent: 0, name: builder.string("second"), how: .root))
            try builder.append(.end(time: 3, task: 7, outcome: .returned))
            // An id reused after its task ended is a new task, not a duplicate.
            try builder.append(.spawn(time: 4, task: 7, parent: 0, name: builder.string("third"), how: .root))
            try builder.append(.end(time: 5, task: 7, outcome: .returned))
            try builder.close(time: 6)
        }
        #expect(report.duplicateSpawns == 1)
        #expect(report.tasks.map(\.name) == ["second", "third"])
        #expect(report.findings.isEmpty)
    }

    @Test func timesGoingBackwardsAcrossChunksGiveZeroLatencyNotATrap() throws {
        var builder = TraceBuilder(sink: InMemoryTrace())
        try builder.append(.spawn(time: 5_000_000_000, task: 1, parent: 0, name: builder.string("late"), how: .root))
        try builder.append(.cancel(time: 6_000_000_000, task: 1, by: 0, reason: .shutdown))
        try builder.append(.cleanupBegin(time: 6_000_000_001, task: 1))
        try builder.flush()
        try builder.append(.cleanupEnd(time: 10, task: 1, result: .ok))
        try builder.append(.end(time: 20, task: 1, outcome: .cancelled))
        try builder.close(time: 30)
        let reader = try TraceReader(bytes: builder.sink.bytes)
        let report = try TraceAnalyzer().analyze(reader, keepTasks: true)
        #expect(report.notices.contains { if case .timeWentBackwards = $0 { true } else { false } })
        #expect(report.tasks.first?.cancelLatency == 1)
        #expect(report.tasks.first?.cleanups.first?.duration == 0)
        #expect(report.findings.isEmpty)
    }

    @Test func theLargestTimesAndIdsFormatAndCountWithoutOverflow() throws {
        let report = try analyze { builder in
            let name = builder.string("forever")
            try builder.append(.spawn(time: 0, task: .max, parent: .max, name: name, how: .root))
            try builder.append(.cancel(time: 1, task: .max, by: .max, reason: .timeout))
            try builder.append(.cleanupBegin(time: 2, task: .max))
            try builder.append(.cleanupEnd(time: .max - 1, task: .max, result: .threw))
            try builder.append(.dropped(time: .max, count: .max))
            try builder.append(.dropped(time: .max, count: .max))
            try builder.append(.end(time: .max, task: .max, outcome: .returned))
            try builder.close(time: .max)
        }
        #expect(report.stats.cancelLatencyMax != nil)
        #expect(report.stats.cancelLatency(atPercentile: 99.9) != nil)
        #expect(Set(report.findings.map(\.rule)) == ["completed-after-cancel", "slow-cancellation", "cleanup-failed", "slow-cleanup"])
        for finding in report.findings { #expect(!finding.message.contains("\n")) }
    }

    @Test func eventsForTasksNeverSpawnedMakeTasksWithoutSpawn() throws {
        let report = try analyze { builder in
            try builder.append(.cancel(time: 1, task: 9, by: 8, reason: .explicit))
            try builder.append(.caught(time: 2, task: 9, error: 0))
            try builder.append(.rethrow(time: 3, task: 10))
            try builder.append(.end(time: 4, task: 11, outcome: .failed))
            try builder.append(.cleanupEnd(time: 5, task: 9, result: .threw))
            try builder.append(.uncancel(time: 6, task: 12))
            try builder.close(time: 7)
        }
        #expect(report.tasksWithoutSpawn == 4)
        #expect(report.tasks.map(\.id) == [9, 10, 11, 12])
        #expect(report.tasks.first?.name == "#9")
    }

    @Test func oneTaskWithAMillionEventsKeepsBoundedLists() throws {
        let report = try analyze(chunkSize: 64 << 10) { builder in
            try builder.append(.spawn(time: 0, task: 1, parent: 0, name: 0, how: .root))
            for i in 1...250_000 as ClosedRange<UInt64> {
                try builder.append(.cancel(time: i, task: 1, by: 0, reason: .explicit))
                try builder.append(.caught(time: i, task: 1, error: 0))
                try builder.append(.cleanupBegin(time: i, task: 1))
                try builder.append(.mark(time: i, task: 1, label: 0))
            }
            try builder.close(time: 1_000_000)
        }
        let task = try #require(report.tasks.first)
        #expect(task.cancels.count == TaskLifecycle.maxEntriesPerList)
        #expect(task.catches.count == TaskLifecycle.maxEntriesPerList)
        #expect(task.cleanups.count == TaskLifecycle.maxEntriesPerList)
        #expect(task.marks.count == TaskLifecycle.maxEntriesPerList)
        #expect(task.elidedEntries == 4 * (250_000 - TaskLifecycle.maxEntriesPerList))
    }

    @Test func aBombOfEndRecordsKeepsTheKeptTasksBounded() throws {
        // End records for ids never seen compress well; each is a new (orphan) task.
        var analyzer = TraceAnalyzer()
        analyzer.maxKeptTasks = 10_000
        let bytes = try trace(chunkSize: 1 << 20) { builder in
            for id in 1...200_000 as ClosedRange<UInt64> { try builder.append(.end(time: 1, task: id, outcome: .returned)) }
        }
        let report = try analyzer.analyze(TraceReader(bytes: bytes), keepTasks: true)
        #expect(report.stats.tasks == 200_000)
        #expect(report.tasks.count == 10_000)
        #expect(report.elidedTasks == 190_000)
    }

    @Test func aBombOfEndRecordsForOneIdIsOneTask() throws {
        // 5-byte end records for one id compress about a thousandfold; every end after the first is late.
        let report = try analyze(chunkSize: 1 << 20) { builder in
            for _ in 0..<200_000 { try builder.append(.end(time: 1, task: 5, outcome: .returned)) }
            try builder.close(time: 2)
        }
        #expect(report.stats.tasks == 1)
        #expect(report.tasks.map(\.id) == [5])
        #expect(report.recordsAfterEnd == 199_999)
    }

    @Test func endedIdsAreRememberedForTheLast262144IdsAndThenForgotten() throws {
        // Dense increasing ids, as both recorders allocate them. A late cancel about a task that ended within
        // the table's reach is ignored; one about a task ended 300,000 ids ago reads as a task without spawn.
        let count: UInt64 = 300_000
        let report = try analyze(chunkSize: 64 << 10) { builder in
            for id in 1...count {
                try builder.append(.spawn(time: id, task: id, parent: 0, name: 0, how: .root))
                try builder.append(.end(time: id, task: id, outcome: .returned))
            }
            try builder.append(.cancel(time: count + 1, task: count - 200_000, by: 0, reason: .explicit))
            try builder.append(.cancel(time: count + 1, task: 1, by: 0, reason: .explicit))
            try builder.close(time: count + 2)
        }
        #expect(report.recordsAfterEnd == 1)
        #expect(report.tasksWithoutSpawn == 1)
        #expect(report.findings.map(\.task) == [1])
        #expect(report.findings.map(\.rule) == ["leaked-task"])
    }

    @Test func scatteredIdsSharingATablePlaceForgetEachOtherWithoutFalseEnds() throws {
        // Ids 262,144 apart share a place in the table: the later end replaces the earlier one's block. Nothing
        // is claimed ended that did not end: a live task's records are never dropped.
        let apart: UInt64 = 262_144
        let report = try analyze { builder in
            try builder.append(.spawn(time: 1, task: 3, parent: 0, name: 0, how: .root))
            try builder.append(.end(time: 2, task: 3, outcome: .returned))
            try builder.append(.spawn(time: 3, task: 3 + apart, parent: 0, name: 0, how: .root))
            try builder.append(.end(time: 4, task: 3 + apart, outcome: .returned))
            try builder.append(.spawn(time: 5, task: 4, parent: 0, name: 0, how: .root))
            try builder.append(.cancel(time: 6, task: 3 + apart, by: 0, reason: .explicit))  // remembered: ignored
            try builder.append(.cancel(time: 6, task: 3, by: 0, reason: .explicit))  // forgotten: a new task
            try builder.append(.cancel(time: 6, task: 4, by: 0, reason: .explicit))  // live: a cancel request
            try builder.append(.end(time: 7, task: 4, outcome: .cancelled))
            try builder.close(time: 8)
        }
        #expect(report.recordsAfterEnd == 1)
        #expect(report.tasksWithoutSpawn == 1)
        #expect(report.ruleIDs == ["leaked-task"])
        #expect(report.findings.first?.task == 3)
        #expect(report.tasks.first { $0.id == 4 }?.cancels.count == 1)
    }
}

private func trace(chunkSize: Int = 256, _ body: (inout TraceBuilder<InMemoryTrace>) throws -> Void) throws -> [UInt8] {
    var builder = TraceBuilder(sink: InMemoryTrace(), chunkSize: chunkSize)
    try body(&builder)
    try builder.flush()
    return builder.sink.bytes
}

private func analyze(chunkSize: Int = 256, _ body: (inout TraceBuilder<InMemoryTrace>) throws -> Void) throws -> AnalysisReport {
    let reader = try TraceReader(bytes: trace(chunkSize: chunkSize, body))
    let report = try TraceAnalyzer().analyze(reader, keepTasks: true)
    #expect(!report.damaged)
    return report
}
