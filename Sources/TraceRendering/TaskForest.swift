import TraceAnalysis
import TraceFormat

/// Tasks arranged under their parents, in order of appearance, without recursion (traces can nest deeply) and
/// without trusting parent ids (a damaged or hostile trace can contain cycles: those tasks become roots).
///
/// Works on a `TaskOutline` in flat arrays of 32-bit indices (children as one list with offsets), so a million
/// tasks cost a few arrays, not a million child lists and an id dictionary.
struct TaskForest {
    struct Entry {
        private let rawIndex: Int32
        private let rawDepth: Int32
        var index: Int { Int(rawIndex) }
        var depth: Int { Int(rawDepth) }

        init(index: Int, depth: Int) {
            rawIndex = Int32(truncatingIfNeeded: index)
            rawDepth = Int32(truncatingIfNeeded: depth)
        }
    }

    /// Every task once, parents before children, siblings by first appearance.
    let order: [Entry]
    /// The outline; `TimelineLayout.supply` adds details to it.
    var tasks: TaskOutline
    let lookup: TaskIDLookup
    private let parentIndex: [Int32]
    private let childStart: [Int32]
    private let childList: [Int32]

    /// Deeper nesting is drawn at this depth, so labels keep some room.
    static let maxIndentDepth = 12

    init(_ tasks: [TaskLifecycle]) { self.init(TaskOutline(tasks)) }

    init(_ tasks: TaskOutline) {
        self.tasks = tasks
        let n = tasks.count
        let parentIndex = tasks.parentIndices
        var childCount = [Int32](repeating: 0, count: n + 1)
        for index in 0..<n where parentIndex[index] >= 0 { childCount[Int(parentIndex[index]) + 1] += 1 }
        for i in 0..<n { childCount[i + 1] += childCount[i] }
        // Filled from the back, each parent's end counting down to its start: children stay in index order and
        // `childCount` ends as the start offsets shifted by one, with no second array.
        var childList = [Int32](repeating: 0, count: n)
        for index in stride(from: n - 1, through: 0, by: -1) where parentIndex[index] >= 0 {
            let parent = Int(parentIndex[index])
            childCount[parent + 1] -= 1
            childList[Int(childCount[parent + 1])] = Int32(index)
        }
        // Now childCount[p + 1] is p's start; p's end is (p + 1)'s start, childCount[p + 2], or n for the last.
        childCount.removeFirst()
        childCount.append(Int32(n))
        var order: [Entry] = []
        order.reserveCapacity(n)
        var visited = [Bool](repeating: false, count: n)
        var stack: [Entry] = []
        func walk(from root: Int) {
            stack.append(Entry(index: root, depth: 0))
            while let entry = stack.popLast() {
                guard !visited[entry.index] else { continue }
                visited[entry.index] = true
                order.append(entry)
                var child = Int(childCount[entry.index + 1])
                while child > Int(childCount[entry.index]) {
                    child -= 1
                    let index = Int(childList[child])
                    if !visited[index] { stack.append(Entry(index: index, depth: entry.depth + 1)) }
                }
            }
        }
        for index in 0..<n where parentIndex[index] < 0 { walk(from: index) }
        // What is left sits on a parent cycle: draw each as a root.
        for index in 0..<n where !visited[index] { walk(from: index) }
        self.order = order
        self.lookup = tasks.lookup
        self.parentIndex = parentIndex
        self.childStart = childCount
        self.childList = childList
    }

    private func children(of index: Int) -> ArraySlice<Int32> {
        childList[Int(childStart[index])..<Int(childStart[index + 1])]
    }

    /// The entries to draw: all, or with `focus` (a task id or exact name) that task, its ancestors and its
    /// descendants, in forest order.
    func entries(focus: String?) throws(TimelineRenderer.FocusError) -> [Entry] {
        guard let focus else { return order }
        let matches = matching(focus)
        if matches.isEmpty { throw .noSuchTask(focus) }
        let keep = withRelatives(of: matches)
        return order.filter { keep.contains($0.index) }
    }

    /// Indices of tasks whose id (`7` or `#7`) or exact name is `query`.
    func matching(_ query: String) -> [Int] {
        let idText = query.hasPrefix("#") ? String(query.dropFirst()) : query
        if let id = TaskID(idText) {
            let byID = lookup.all(id)
            if !byID.isEmpty { return byID }
        }
        guard let nameIndex = tasks.names.firstIndex(of: query).map(Int32.init) else { return [] }
        return (0..<tasks.count).filter { tasks.nameIndices[$0] == nameIndex }
    }

    /// `indices`, their ancestors and their descendants.
    func withRelatives(of indices: [Int]) -> Set<Int> {
        var keep = Set<Int>()
        for index in indices {
            var current = index
            while current >= 0, keep.insert(current).inserted { current = Int(parentIndex[current]) }
            var stack = Array(children(of: index))
            while let child = stack.popLast() {
                if keep.insert(Int(child)).inserted { stack.append(contentsOf: children(of: Int(child))) }
            }
        }
        return keep
    }
}

/// One row of the timeline: a task, or a collapsed group of same-named siblings with their descendants.
struct Lane {
    /// Indices into the outline; the first is the representative.
    var members: TaskIndices
    var depth: Int
    /// Number of same-named siblings in a group (0 for a single task).
    var groupSize = 0

    var isGroup: Bool { groupSize > 0 }

    func label(_ tasks: TaskOutline) -> String {
        let indent = String(repeating: "  ", count: min(depth, TaskForest.maxIndentDepth))
        let name = TerminalText.escape(tasks.name(of: members[0]), maxCharacters: 40)
        if isGroup {
            let nested = members.count - groupSize
            return indent + "\(name) ×\(groupSize)" + (nested > 0 ? " +\(nested)" : "")
        }
        return indent + "\(name) #\(tasks.ids[members[0]])"
    }

    func outcomeText(_ tasks: TaskOutline) -> String {
        if isGroup {
            var returned = 0, cancelled = 0, failed = 0, running = 0
            for index in members {
                switch tasks.outcome(of: index) {
                case .returned?: returned += 1
                case .cancelled?: cancelled += 1
                case .failed?: failed += 1
                case nil: running += 1
                }
            }
            return [(returned, "returned"), (cancelled, "cancelled"), (failed, "failed"), (running, "running")]
                .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        }
        guard let end = tasks.lifecycle(of: members[0]).end else { return "running" }
        if end.outcome == .failed && !end.errorType.isEmpty {
            return "failed: " + TerminalText.escape(end.errorType, maxCharacters: 16)
        }
        return end.outcome.label
    }

    /// Lanes for `visible` (forest order), collapsing same-named sibling groups, largest first, until at most
    /// `maxLanes` remain, then cutting the rest.
    ///
    /// Works in flat 32-bit arrays by position, allocated as late and freed as early as the steps allow: for a
    /// million tasks this is the timeline's peak of memory after the analysis.
    static func build(_ visible: [TaskForest.Entry], tasks: TaskOutline, maxLanes: Int) -> [Lane] {
        let n = visible.count
        // Subtree extent of each visible entry from depths in forest order; with `onChild`, each entry's parent
        // position (-1 for a root) as the same walk finds it.
        var subtreeEnd = [Int32](repeating: Int32(n), count: n)
        func walk(_ onChild: (_ parent: Int, _ child: Int) -> Void) {
            var stack: [Int32] = []
            for position in 0..<n {
                while let top = stack.last, visible[Int(top)].depth >= visible[position].depth {
                    subtreeEnd[Int(top)] = Int32(position)
                    stack.removeLast()
                }
                onChild(Int(stack.last ?? -1), position)
                stack.append(Int32(position))
            }
        }
        // -1: drawn alone; -2: hidden (inside a group, or a group's later member); else the group of its first member.
        var groupOf: [Int32] = []
        // Groups as chains: the first member of each, and each member's next; with the entries they hold.
        var groups: [(first: Int32, entries: Int)] = []
        var nextMember: [Int32] = []
        func members(from first: Int32) -> UnfoldSequence<Int, Int32> {
            sequence(state: first) { member in
                guard member >= 0 else { return nil }
                defer { member = nextMember[Int(member)] }
                return Int(member)
            }
        }
        if n > maxLanes {
            // Children by parent position p (shifted by one, 0 for the roots), in position order: counted in one
            // walk, placed in a second (no array of parent positions). Counted at p + 2, summed, so p + 1 holds
            // p's start, which the placing moves to p's end: then p's children are offsets[p]..<offsets[p + 1].
            var offsets = [Int32](repeating: 0, count: n + 3)
            walk { parent, _ in offsets[parent + 3] += 1 }
            for i in 0...n + 1 { offsets[i + 1] += offsets[i] }
            var children = [Int32](repeating: 0, count: n)
            walk { parent, child in
                children[Int(offsets[parent + 2])] = Int32(child)
                offsets[parent + 2] += 1
            }
            // Same-named siblings, found parent by parent with one entry per name, stamped with the parent it was
            // last used for: no dictionary of a million keys.
            nextMember = [Int32](repeating: -1, count: n)
            var stamp = [Int32](repeating: -2, count: tasks.names.count)
            var lastOfName = [Int32](repeating: -1, count: tasks.names.count)
            var firstOfName = [Int32](repeating: -1, count: tasks.names.count)
            var candidateOfName = [Int32](repeating: -1, count: tasks.names.count)
            var candidates: [(first: Int32, saving: Int)] = []
            for parent in 0...n {
                for child in children[Int(offsets[parent])..<Int(offsets[parent + 1])] {
                    let name = Int(tasks.nameIndices[visible[Int(child)].index])
                    let size = Int(subtreeEnd[Int(child)] - child)
                    if stamp[name] != Int32(parent) {
                        stamp[name] = Int32(parent)
                        firstOfName[name] = child
                        lastOfName[name] = child
                        candidateOfName[name] = -1
                        continue
                    }
                    nextMember[Int(lastOfName[name])] = child
                    lastOfName[name] = child
                    let first = firstOfName[name]
                    if candidateOfName[name] >= 0 {
                        candidates[Int(candidateOfName[name])].saving += size
                    } else {
                        candidateOfName[name] = Int32(candidates.count)
                        candidates.append((first, Int(subtreeEnd[Int(first)] - first) + size - 1))
                    }
                }
            }
            children = []
            offsets = []
            candidates.sort { ($0.saving, -Int($0.first)) > ($1.saving, -Int($1.first)) }
            groupOf = [Int32](repeating: -1, count: n)
            var lanes = n
            for candidate in candidates where lanes > maxLanes {
                // Taken when a member is hidden inside a chosen group's member; members are siblings, so then all
                // are, the first too: checking it saves a walk along the chain.
                guard groupOf[Int(candidate.first)] == -1 else { continue }
                let group = Int32(groups.count)
                groups.append((candidate.first, candidate.saving + 1))
                groupOf[Int(candidate.first)] = group
                for member in members(from: candidate.first) {
                    for inner in member..<Int(subtreeEnd[member]) where inner != Int(candidate.first) { groupOf[inner] = -2 }
                }
                lanes -= candidate.saving
            }
        } else {
            walk { _, _ in }
            groupOf = [Int32](repeating: -1, count: n)
        }
        var lanes: [Lane] = []
        for position in 0..<n where groupOf[position] != -2 {
            if groupOf[position] >= 0 {
                var all: [Int32] = []
                var size = 0
                let (first, entries) = groups[Int(groupOf[position])]
                all.reserveCapacity(entries)
                for member in members(from: first) {
                    size += 1
                    for inner in member..<Int(subtreeEnd[member]) { all.append(Int32(visible[inner].index)) }
                }
                lanes.append(Lane(members: TaskIndices(all), depth: visible[position].depth, groupSize: size))
            } else {
                lanes.append(Lane(members: TaskIndices([Int32(visible[position].index)]), depth: visible[position].depth))
            }
            if lanes.count == maxLanes { break }
        }
        return lanes
    }
}

/// Task indices stored in 32 bits: a group lane can hold most of a million tasks.
struct TaskIndices: RandomAccessCollection {
    private let storage: [Int32]
    init(_ storage: [Int32]) { self.storage = storage }
    var startIndex: Int { 0 }
    var endIndex: Int { storage.count }
    subscript(position: Int) -> Int { Int(storage[position]) }
}

/// The lanes of a timeline, computed once: which tasks are drawn alone (and need their full lifecycle) and
/// which are aggregated in a group lane.
public struct TimelineLayout {
    private(set) var tasks: TaskOutline
    let lookup: TaskIDLookup
    let visible: [TaskForest.Entry]
    let lanes: [Lane]

    /// Lays out the tasks of `report`: its `outline` when the analysis built one, else its `tasks`.
    /// - Parameter focus: a task id (`7` or `#7`) or exact name; that task, its ancestors and its descendants.
    public init(_ report: AnalysisReport, focus: String?, maxLanes: Int) throws(TimelineRenderer.FocusError) {
        try self.init(report.outline ?? TaskOutline(report.tasks), focus: focus, maxLanes: maxLanes)
    }

    /// As above, taking the outline out of `report` (the renderers read the tasks from the layout), so the
    /// parents' column is freed once the forest is built, before the lanes.
    public init(taking report: inout AnalysisReport, focus: String?, maxLanes: Int) throws(TimelineRenderer.FocusError) {
        let outline = report.outline ?? TaskOutline(report.tasks)
        report.outline = nil
        try self.init(outline, focus: focus, maxLanes: maxLanes)
    }

    private init(_ outline: consuming TaskOutline, focus: String?, maxLanes: Int) throws(TimelineRenderer.FocusError) {
        // The forest's child lists are needed only for the order and the focus: gone before lanes are built.
        do {
            let forest = TaskForest(consume outline)
            (tasks, lookup, visible) = (forest.tasks, forest.lookup, try forest.entries(focus: focus))
        }
        tasks.dropParents()
        lanes = Lane.build(visible, tasks: tasks, maxLanes: max(maxLanes, 2))
    }

    /// Tasks drawn in a lane of their own whose full lifecycle the outline did not keep: read them again
    /// (`TaskKeeping.only`) and `supply` them, or their lanes show only what the outline has.
    public var missingDetails: [Int] {
        lanes.filter { !$0.isGroup && tasks.details[$0.members[0]] == nil }.map { $0.members[0] }
    }

    /// The most serious level among the findings about each lane's tasks (a group's: any member's), from the
    /// report's findings or, when it kept the text of some or none, its `findingLevels`.
    func laneLevels(_ report: AnalysisReport) -> [Level?] {
        guard !report.findings.isEmpty || !report.findingLevels.isEmpty else {
            return [Level?](repeating: nil, count: lanes.count)
        }
        var levelOf = [Level?](repeating: nil, count: tasks.count)
        func note(_ task: TaskID, _ level: Level) {
            for position in lookup.positions(of: task) {
                let index = lookup.index(at: position)
                levelOf[index] = max(levelOf[index] ?? level, level)
            }
        }
        if report.findingLevels.isEmpty {
            for finding in report.findings { note(finding.task, finding.level) }
        } else {
            for finding in report.findingLevels { note(finding.task, finding.level) }
        }
        return lanes.map { $0.members.lazy.compactMap { levelOf[$0] }.max() }
    }

    /// The ids of `missingDetails`.
    public var missingIDs: Set<TaskID> { Set(missingDetails.map { tasks.ids[$0] }) }

    /// Adds the full lifecycles of `missingDetails`, read again.
    public mutating func supply(_ lifecycles: [TaskLifecycle]) {
        let missing = missingDetails
        tasks.supply(lifecycles, for: missing)
    }

    /// The tasks to read again (`TaskKeeping.only`): `missingIDs`, and for a picture (`findingText`) the tasks
    /// drawn alone with a finding whose text `report` did not keep (`TraceAnalyzer.textOfFirstFindings`): their
    /// badges show it.
    public func idsToReadAgain(_ report: AnalysisReport, findingText: Bool) -> Set<TaskID> {
        var ids = missingIDs
        guard findingText, !report.findingLevels.isEmpty else { return ids }
        var missingText: [TaskID: Int] = [:]
        for lane in lanes where !lane.isGroup { missingText[tasks.ids[lane.members[0]]] = 0 }
        for finding in report.findingLevels { missingText[finding.task]? += 1 }
        for finding in report.findings { missingText[finding.task]? -= 1 }
        for (id, count) in missingText where count > 0 { ids.insert(id) }
        return ids
    }

    /// Takes what the second read of `idsToReadAgain` kept: the lifecycles, and the findings' text into `report`.
    public mutating func supply(_ second: AnalysisReport, to report: inout AnalysisReport) {
        supply(second.tasks)
        report.addFindingText(from: second)
    }
}
