/// What a module's own declarations say about calls by name: which functions cannot throw CancellationError.
///
/// Built once per module after every file is read, from each function's `CancellationThrowing`. A name counts
/// only when every function of that name in the module cannot throw it (overloads and methods of other types
/// share names), nothing in the module binds the name to a value (a closure parameter or property called like a
/// function), and no file left unparsed declares it (`TextScan.declaredNames`).
struct ModuleFacts {
    /// Names whose every declaration in the module cannot throw CancellationError.
    let cannotThrowCancellation: Set<String>

    init(files: [Linter.FileResult]) {
        var declared: [String: [CancellationThrowing]] = [:]
        var unknown: Set<String> = []
        for file in files {
            for declaration in file.declarations { declared[declaration.name, default: []].append(declaration.throwing) }
            unknown.formUnion(file.valueNames)
        }
        var safe = Set(declared.filter { name, kinds in !unknown.contains(name) && !kinds.contains(.can) }.keys)
        // Drop names that reach an unsafe one until nothing changes: mutual recursion without a source stays safe.
        var changed = true
        while changed {
            changed = false
            for name in safe {
                let reachesUnsafe = declared[name, default: []].contains { kind in
                    guard case .only(let sources) = kind else { return false }
                    return !sources.awaited.isSubset(of: safe)
                        || sources.synchronous.contains { declared[$0] != nil && !safe.contains($0) }
                }
                if reachesUnsafe {
                    safe.remove(name)
                    changed = true
                }
            }
        }
        cannotThrowCancellation = safe
    }

    /// Whether a finding that depends on these awaited names holds: unless each of them cannot throw it.
    func holds(awaits: [String]) -> Bool {
        awaits.isEmpty || !awaits.allSatisfy(cannotThrowCancellation.contains)
    }
}
