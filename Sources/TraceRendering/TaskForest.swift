import TraceAnalysis
import TraceFormat

/// Tasks arranged under their parents, in order of appearance, without recursion (traces can nest deeply) and
/// without trusting parent ids (a damaged or hostile trace can contain cycles: those tasks become roots).
struct TaskForest {
    struct Entry {
        let index: Int
        let depth: Int
    }

    /// Every task once, parents before children, siblings by first appearance.
    let order: [Entry]
    private let tasks: [TaskLifecycle]
    private let parentIndex: [Int?]
    private let children: [[Int]]

    /// Deeper nesting is drawn at this depth, so labels keep some room.
    static let maxIndentDepth = 12

    init(_ tasks: [TaskLifecycle]) {
        self.tasks = tasks
        var indexByID: [TaskID: Int] = [:]
        indexByID.reserveCapacity(tasks.count)
        // By index, not `enumerated()`: that copies every lifecycle (a retain per string and list) at a million tasks.
        for index in tasks.indices { indexByID[tasks[index].id] = index }
        var parentIndex = [Int?](repeating: nil, count: tasks.count)
        var children = [[Int]](repeating: [], count: tasks.count)
        for index in tasks.indices {
            let parentID = tasks[index].parent
            if parentID != 0, let parent = indexByID[parentID], parent != index {
                parentIndex[index] = parent
                children[parent].append(index)
            }
        }
        var order: [Entry] = []
        order.reserveCapacity(tasks.count)
        var visited = [Bool](repeating: false, count: tasks.count)
        func walk(from root: Int) {
            var stack = [Entry(index: root, depth: 0)]
            while let entry = stack.popLast() {
                guard !visited[entry.index] else { continue }
                visited[entry.index] = true
                order.append(entry)
                for child in children[entry.index].reversed() where !visited[child] {
                    stack.append(Entry(index: child, depth: entry.depth + 1))
                }
            }
        }
        for index in tasks.indices where parentIndex[index] == nil { walk(from: index) }
        // What is left sits on a parent cycle: draw each as a root.
        for index in tasks.indices where !visited[index] { walk(from: index) }
        self.order = order
        self.parentIndex = parentIndex
        self.children = children
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
            let byID = tasks.indices.filter { tasks[$0].id == id }
            if !byID.isEmpty { return byID }
        }
        return tasks.indices.filter { tasks[$0].name == query }
    }

    /// `indices`, their ancestors and their descendants.
    func withRelatives(of indices: [Int]) -> Set<Int> {
        var keep = Set<Int>()
        for index in indices {
            var current: Int? = index
            while let c = current, keep.insert(c).inserted { current = parentIndex[c] }
            var stack = children[index]
            while let child = stack.popLast() {
                if keep.insert(child).inserted { stack.append(contentsOf: children[child]) }
            }
        }
        return keep
    }
}

/// One row of the timeline: a task, or a collapsed group of same-named siblings with their descendants.
struct Lane {
    /// Indices into the task list; the first is the representative.
    var members: [Int]
    var depth: Int
    /// Number of same-named siblings in a group (0 for a single task).
    var groupSize = 0

    var isGroup: Bool { groupSize > 0 }

    func label(_ tasks: [TaskLifecycle]) -> String {
        let indent = String(repeating: "  ", count: min(depth, TaskForest.maxIndentDepth))
        let task = tasks[members[0]]
        let name = TerminalText.escape(task.name, maxCharacters: 40)
        if isGroup {
            let nested = members.count - groupSize
            return indent + "\(name) ×\(groupSize)" + (nested > 0 ? " +\(nested)" : "")
        }
        return indent + "\(name) #\(task.id)"
    }

    func outcomeText(_ tasks: [TaskLifecycle]) -> String {
        if isGroup {
            var returned = 0, cancelled = 0, failed = 0, running = 0
            for index in members {
                switch tasks[index].end?.outcome {
                case .returned?: returned += 1
                case .cancelled?: cancelled += 1
                case .failed?: failed += 1
                case nil: running += 1
                }
            }
            return [(returned, "returned"), (cancelled, "cancelled"), (failed, "failed"), (running, "running")]
                .filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
        }
        guard let end = tasks[members[0]].end else { return "running" }
        if end.outcome == .failed && !end.errorType.isEmpty {
            return "failed: " + TerminalText.escape(end.errorType, maxCharacters: 16)
        }
        return end.outcome.label
    }

    /// Lanes for `visible` (forest order), collapsing same-named sibling groups, largest first, until at most
    /// `maxLanes` remain, then cutting the rest.
    static func build(_ visible: [TaskForest.Entry], tasks: [TaskLifecycle], maxLanes: Int) -> [Lane] {
        let n = visible.count
        // Subtree extent and parent position of each visible entry, from depths in forest order.
        var subtreeEnd = [Int](repeating: n, count: n)
        var parentPosition = [Int](repeating: -1, count: n)
        var stack: [Int] = []
        for position in 0..<n {
            while let top = stack.last, visible[top].depth >= visible[position].depth {
                subtreeEnd[top] = position
                stack.removeLast()
            }
            parentPosition[position] = stack.last ?? -1
            stack.append(position)
        }
        var groupOf = [Int](repeating: -1, count: n)
        var hidden = [Bool](repeating: false, count: n)
        var groups: [[Int]] = []
        if n > maxLanes {
            struct Key: Hashable { let parent: Int; let name: String }
            var byKey: [Key: [Int]] = [:]
            for position in 0..<n {
                byKey[Key(parent: parentPosition[position], name: tasks[visible[position].index].name), default: []].append(position)
            }
            let candidates = byKey.values.filter { $0.count > 1 }
                .map { members in (members, members.reduce(0) { $0 + subtreeEnd[$1] - $1 } - 1) }
                .sorted { ($0.1, -$0.0[0]) > ($1.1, -$1.0[0]) }
            var lanes = n
            for (members, saving) in candidates where lanes > maxLanes {
                guard !members.contains(where: { hidden[$0] || groupOf[$0] >= 0 }) else { continue }
                let group = groups.count
                groups.append(members)
                for member in members {
                    groupOf[member] = group
                    for inner in member..<subtreeEnd[member] where inner != members[0] { hidden[inner] = true }
                }
                lanes -= saving
            }
        }
        var lanes: [Lane] = []
        for position in 0..<n where !hidden[position] {
            if groupOf[position] >= 0 {
                let members = groups[groupOf[position]]
                let all = members.flatMap { ($0..<subtreeEnd[$0]).map { visible[$0].index } }
                lanes.append(Lane(members: all, depth: visible[position].depth, groupSize: members.count))
            } else {
                lanes.append(Lane(members: [visible[position].index], depth: visible[position].depth))
            }
            if lanes.count == maxLanes { break }
        }
        return lanes
    }
}
