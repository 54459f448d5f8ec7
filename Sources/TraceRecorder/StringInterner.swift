import TraceFormat

/// A session's names, shared by all recording threads: text → id, taken under a lock only when a thread's own
/// cache misses. Ids are this interner's (1, 2, … in order of first use by any thread); the writer gives each
/// its id in the file when it first writes a record that uses it, so the file's ids stay in order of definition.
final class StringInterner: Sendable {
    private struct State {
        var ids: [String: StringID] = [:]
        /// Text of id `i + 1`.
        var texts: [String] = []
        var bytes = 0
    }

    private let state = Locked(State())
    static let overflowText = "<names over the trace's string limit>"

    /// The id of `text`. Names beyond the format's string-table limits all share one placeholder, so an app that
    /// names every task differently still writes a readable trace.
    func id(of text: String) -> StringID {
        state.withLock { state in
            if let id = state.ids[text] { return id }
            let bounded = TraceStrings.bounded(text)
            guard state.texts.count + 2 < TraceLayout.maxStringCount,
                  state.bytes + bounded.utf8.count + 64 < TraceLayout.maxStringTableBytes else {
                if let id = state.ids[Self.overflowText] { return id }
                return Self.define(Self.overflowText, as: Self.overflowText, in: &state)
            }
            return Self.define(bounded, as: text, in: &state)
        }
    }

    private static func define(_ bounded: String, as text: String, in state: inout State) -> StringID {
        state.texts.append(bounded)
        state.bytes += bounded.utf8.count
        let id = StringID(state.texts.count)
        state.ids[text] = id
        return id
    }

    /// The text of `id` (already bounded).
    func text(of id: StringID) -> String {
        state.withLock { state in
            let index = Int(id) - 1
            return index >= 0 && index < state.texts.count ? state.texts[index] : ""
        }
    }
}
