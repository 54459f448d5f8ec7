import TraceAnalysis
import TraceFormat

/// Lines about how the trace was read (truncated, damaged, dropped events), shared by every text output.
public enum TraceNotes {
    public static func lines(for report: AnalysisReport, style: Style) -> [String] {
        var lines = report.notices.map { notice in
            (notice.isDamage ? style.boldRed("damaged: ") : style.yellow("note: ")) + notice.description
        }
        if report.elidedNotices > 0 {
            lines.append(style.yellow("note: ") + "\(report.elidedNotices) more notices about damage not shown")
        }
        if report.elidedTasks > 0 {
            lines.append(style.yellow("note: ") + "\(report.elidedTasks) more tasks were counted but not kept for drawing")
        }
        if report.stats.droppedEvents > 0 {
            lines.append(style.yellow("note: ") + "the recorder dropped \(report.stats.droppedEvents) events; findings may be incomplete")
        }
        if report.tasksWithoutSpawn > 0 {
            lines.append(style.yellow("note: ") + "\(report.tasksWithoutSpawn) tasks appear without a spawn record")
        }
        if report.untrackedTasks > 0 {
            lines.append(style.yellow("note: ") + "\(report.untrackedTasks) spawns or records of tasks not analyzed: more than \(TraceAnalyzer().maxLiveTasks) tasks were alive at once")
        }
        if report.duplicateSpawns > 0 {
            lines.append(style.yellow("note: ") + "\(report.duplicateSpawns) spawn records reused a live task id; the later spawn replaced the earlier task")
        }
        if report.recordsAfterEnd > 0 {
            lines.append(style.yellow("note: ") + "\(Plural.count(report.recordsAfterEnd, "record")) referred to tasks that had already ended; ignored")
        }
        return lines
    }
}
