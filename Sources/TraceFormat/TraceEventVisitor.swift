/// Receives events straight from `TraceReader`'s decoder, for a caller that folds every event into its own state.
///
/// `TraceReader.nextEvents(to:)` is inlined into the caller and calls `visit` from one place per event kind, with
/// the kind a constant there. With `visit` inlined too (mark it `@inline(__always)`), the optimizer drops the
/// visitor's own `switch event.kind` in each place: a record costs one dispatch on its kind instead of two, and
/// no batch of events is written out and read back.
public protocol TraceEventVisitor {
    /// Called with each event, in file order.
    mutating func visit(_ event: TraceEvent)
}
