import TraceFormat

/// The task never ended before the trace did.
public struct LeakedTask: Rule, PrefilteredRule {
    public let id = "leaked-task"
    public let defaultLevel = Level.warning
    public let summary = "task never ended before the trace ended"
    public let explanation = """
        The task was still running when the recorder stopped: nobody awaited or cancelled it, or its cancellation \
        never took effect. When the trace was cut short (the process died), the task may simply have been \
        interrupted; when chunks of the trace were damaged, the task's end may have been in one of them. The \
        finding says so.
        """
    public let help = "await or cancel every task you start before shutting down (structured concurrency does this for you)"
    public let pythonHelp: String? = "await or cancel every task you create before the loop closes (`asyncio.TaskGroup` or `anyio` task groups do this for you); keep a reference to each task"

    public init() {}

    public func check(_ task: TaskLifecycle, in context: RuleContext) -> [Finding] {
        guard task.end == nil else { return [] }
        var notes: [String] = []
        if context.traceCutShort { notes.append("the trace was cut short, so the task may have ended after it") }
        if context.damagedChunks > 0 {
            let chunks = context.damagedChunks == 1 ? "1 chunk" : "\(context.damagedChunks) chunks"
            notes.append("the trace is damaged (\(chunks) skipped), so the task's end may have been lost")
        }
        let started: FindingText = if let spawn = task.spawnTime { "started at \(seconds: spawn)" } else { "first seen at \(seconds: task.firstSeen)" }
        return [finding(task, in: context, time: context.traceEnd,
                        message: "\(label: task) \(started) never ended before the trace ended at \(seconds: context.traceEnd)",
                        notes: notes, cancel: task.effectiveCancel)]
    }

    static func mayReport(on task: CompactTask, threshold: UInt64) -> Bool {
        !task.hasEnd
    }
}
