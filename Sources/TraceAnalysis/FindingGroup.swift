import TraceFormat

/// Findings of one rule about tasks made at the same place: one cause, many tasks (a loop that spawns ten
/// thousand workers, all cancelled in one tick). `check` shows one finding per group — the worst — with the count,
/// so that the one mistake does not bury every other.
public struct FindingGroup: Sendable {
    /// The finding shown: the one with the largest `magnitude`, the earliest of those.
    public var worst: Finding
    /// Findings in the group, `worst` included.
    public var count: Int
    public var firstTime: UInt64
    public var lastTime: UInt64

    /// `findings` grouped by rule and creation site, in the order of each group's first finding. Findings whose
    /// task has no site are grouped by rule and task name instead when the name is shared (an explicit name given
    /// at one place in code); a finding about the whole trace (task 0) stays alone.
    public static func group(_ findings: [Finding]) -> [FindingGroup] {
        struct Key: Hashable {
            var rule: String
            var site: String
            var name: String
        }
        var groups: [FindingGroup] = []
        var index: [Key: Int] = [:]
        for finding in findings {
            guard finding.task != 0 else {
                groups.append(FindingGroup(single: finding))
                continue
            }
            let key = finding.site.isEmpty
                ? Key(rule: finding.rule, site: "", name: finding.taskName)
                : Key(rule: finding.rule, site: finding.site, name: "")
            if let at = index[key] {
                groups[at].add(finding)
            } else {
                index[key] = groups.count
                groups.append(FindingGroup(single: finding))
            }
        }
        return groups
    }

    init(single finding: Finding) {
        worst = finding
        count = 1
        firstTime = finding.time
        lastTime = finding.time
    }

    mutating func add(_ finding: Finding) {
        count += 1
        firstTime = min(firstTime, finding.time)
        lastTime = max(lastTime, finding.time)
        if finding.magnitude > worst.magnitude || (finding.magnitude == worst.magnitude && finding.level > worst.level) {
            worst = finding
        }
    }
}
