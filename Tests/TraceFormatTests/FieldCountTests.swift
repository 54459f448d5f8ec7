import Testing
import TraceFormat

@Suite struct FieldCountTests {
    /// The hot paths use `EventKind.fieldCount`, a switch; the table stays the one source of truth.
    @Test func fieldCountMatchesTheKindTable() {
        for spec in KindSpec.all where spec.kind != .string {
            #expect(spec.kind.fieldCount == spec.fields.count, "\(spec.name)")
        }
    }
}
