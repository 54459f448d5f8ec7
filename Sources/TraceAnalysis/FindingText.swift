import TraceFormat

/// A finding's message as its rule wrote it — literal text, names, times and durations — turned into a `String`
/// only when read.
///
/// A large trace has tens of thousands of findings and most are only counted (`stats`, or past
/// `TraceAnalyzer.maxFindings`), so formatting them as they are found cost a fifth of the whole analysis. Rules
/// write the message as before, with interpolations that say how a value reads:
/// `"\(label: task) caught it at \(seconds: time), \(duration: latency) late"`.
struct FindingText: Sendable, Equatable, CustomStringConvertible, ExpressibleByStringInterpolation {
    enum Segment: Sendable {
        case literal(StaticString)
        case text(String)
        /// `task "name" (#id)`, as `TaskLifecycle.label` reads.
        case label(name: String, id: TaskID)
        case seconds(UInt64)
        case duration(UInt64)
    }

    var segments: [Segment]

    init(stringLiteral value: StaticString) {
        segments = [.literal(value)]
    }

    init(stringInterpolation: StringInterpolation) {
        segments = stringInterpolation.segments
    }

    /// The text, formatted now.
    var description: String {
        var result = ""
        for segment in segments {
            switch segment {
            case let .literal(text): result += text.description
            case let .text(text): result += text
            case let .label(name, id): result += TaskLifecycle.label(name: name, id: id)
            case let .seconds(time): result += TraceTime.seconds(time)
            case let .duration(span): result += TraceTime.duration(span)
            }
        }
        return result
    }

    /// Two texts are equal when they read the same, however they were put together.
    static func == (lhs: FindingText, rhs: FindingText) -> Bool { lhs.description == rhs.description }

    struct StringInterpolation: StringInterpolationProtocol {
        var segments: [Segment] = []

        init(literalCapacity: Int, interpolationCount: Int) {
            segments.reserveCapacity(2 * interpolationCount + 1)
        }

        mutating func appendLiteral(_ literal: StaticString) {
            if literal.utf8CodeUnitCount > 0 { segments.append(.literal(literal)) }
        }

        mutating func appendInterpolation(_ text: String) { segments.append(.text(text)) }

        mutating func appendInterpolation(_ text: FindingText) { segments += text.segments }

        /// `task "name" (#id)`.
        mutating func appendInterpolation(label task: TaskLifecycle) {
            segments.append(.label(name: task.name, id: task.id))
        }

        /// `TraceTime.seconds`.
        mutating func appendInterpolation(seconds time: UInt64) { segments.append(.seconds(time)) }

        /// `TraceTime.duration`.
        mutating func appendInterpolation(duration span: UInt64) { segments.append(.duration(span)) }
    }
}
