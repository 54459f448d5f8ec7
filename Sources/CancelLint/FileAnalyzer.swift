import SwiftParser
import SwiftSyntax
import TraceAnalysis

/// What a raw finding is before levels, suppressions and rendering: the rule and the syntax it points at.
struct RawFinding {
    var rule: LintRule
    var node: Syntax
    var endNode: Syntax?
    var message: String
    var notes: [String]
    /// The finding holds only if one of these names, awaited where it points, can throw CancellationError: each is
    /// a plain or `self.` call the module pass may find declared in the module as unable to (`ModuleFacts`).
    /// Nil when something else awaited can throw it regardless.
    var awaits: [String]? = nil
}

/// A function of the file whose catch swallows cancellation, or that awaits such a function: the input of the
/// module pass for `task-calls-swallowing-helper`.
struct FunctionFacts {
    var name: String
    var signature: String
    var file: String
    var line: Int
    /// Where it swallows, when it does so itself: `file:line`. Set by the module pass from `swallowCandidates`.
    var swallowsAt: String?
    /// Its catches that swallow, each with the names it depends on (`RawFinding.awaits`).
    var swallowCandidates: [(at: String, awaits: [String]?)] = []
    /// Names of the functions it awaits.
    var awaitedCalls: [(name: String, line: Int)]
    /// The lines of its body, for `check --source`.
    var bodyLines: ClosedRange<Int> = 0...0
}

/// A task's closure (`Task {}`, `addTask {}`), for joining a trace's spawn site with the findings it runs into.
struct TaskClosure {
    /// The line the spawning call starts on: where a recorder's `#line` points.
    var callLine: Int
    var lines: ClosedRange<Int>
    /// Names of the functions it awaits.
    var awaitedCalls: [String]
}

/// A call made inside a task's closure, for the module pass.
struct TaskCall {
    var name: String
    var node: Syntax
}

/// Runs the per-file rules over one parsed file.
final class FileAnalyzer: SyntaxVisitor {
    let configuration: LintConfiguration
    private(set) var findings: [RawFinding] = []
    private(set) var functions: [FunctionFacts] = []
    private(set) var taskCalls: [TaskCall] = []
    private(set) var taskClosures: [TaskClosure] = []
    /// Every function declared, with or without a body, and whether it can throw CancellationError.
    private(set) var declarations: [(name: String, throwing: CancellationThrowing)] = []
    /// Names bound to values (variables, parameters): a call by such a name may be a closure, not a function.
    private(set) var valueNames: Set<String> = []
    let file: String
    let converter: SourceLocationConverter

    init(file: String, tree: SourceFileSyntax, configuration: LintConfiguration) {
        self.file = file
        self.configuration = configuration
        self.converter = SourceLocationConverter(fileName: file, tree: tree)
        super.init(viewMode: .sourceAccurate)
    }

    func line(of node: some SyntaxProtocol) -> Int {
        node.startLocation(converter: converter, afterLeadingTrivia: true).line
    }

    func lines(of node: some SyntaxProtocol) -> ClosedRange<Int> {
        line(of: node)...max(line(of: node), node.endLocation(converter: converter, afterTrailingTrivia: false).line)
    }

    // MARK: try-optional-cancellable and cancellation-into-value (`?? default`)

    override func visit(_ node: TryExprSyntax) -> SyntaxVisitorContinueKind {
        guard node.questionOrExclamationMark?.tokenKind == .postfixQuestionMark,
              let call = cancellableCall(in: node.expression)
        else { return .visitChildren }
        guard let statement = SyntaxFacts.statement(holding: Syntax(node)) else { return .visitChildren }
        let callee = SyntaxFacts.calleeName(call)
        // `sleep(for:)` may be the module's own function that does not throw CancellationError.
        let awaits = SyntaxFacts.ownCallName(call).map { [$0] }
        switch Follow.after(statement) {
        case .work(let next):
            findings.append(RawFinding(
                rule: .tryOptionalCancellable, node: Syntax(node), endNode: nil,
                message: "`try?` drops the CancellationError of `\(callee)` and the task goes on",
                notes: ["line \(line(of: next)) runs after a cancellation as if the wait had finished"], awaits: awaits))
        case .loop(let loop):
            findings.append(RawFinding(
                rule: .tryOptionalCancellable, node: Syntax(node), endNode: nil,
                message: "`try?` drops the CancellationError of `\(callee)` inside a loop",
                notes: ["the loop at line \(line(of: loop)) goes round again after a cancellation and never checks for it"],
                awaits: awaits))
        case .checked, .ends:
            break
        }
        return .visitChildren
    }

    override func visit(_ node: SequenceExprSyntax) -> SyntaxVisitorContinueKind {
        let elements = Array(node.elements)
        for (index, element) in elements.enumerated() {
            guard let op = element.as(BinaryOperatorExprSyntax.self), op.operator.text == "??", index > 0 else { continue }
            let left = SyntaxFacts.unparenthesized(elements[index - 1])
            guard let tryExpr = left.as(TryExprSyntax.self), tryExpr.questionOrExclamationMark?.tokenKind == .postfixQuestionMark,
                  containsAwait(Syntax(tryExpr.expression)),
                  let loop = SyntaxFacts.enclosingLoop(Syntax(node)), !SyntaxFacts.loopEndsOnCancel(loop)
            else { continue }
            findings.append(RawFinding(
                rule: .cancellationIntoValue, node: Syntax(node), endNode: nil,
                message: "`(try? await …) ?? default` turns a cancellation into the default value inside a loop",
                notes: ["the loop at line \(line(of: loop)) goes on with the default after a cancellation and never checks for it"]))
        }
        return .visitChildren
    }

    /// The call in a `try?` operand that throws on cancellation, by the configured list.
    private func cancellableCall(in expression: ExprSyntax) -> FunctionCallExprSyntax? {
        var expression = SyntaxFacts.unparenthesized(expression)
        if let awaited = expression.as(AwaitExprSyntax.self) { expression = SyntaxFacts.unparenthesized(awaited.expression) }
        guard let call = expression.as(FunctionCallExprSyntax.self), cancellableCallMatches(call) else { return nil }
        return call
    }

    private func cancellableCallMatches(_ call: FunctionCallExprSyntax) -> Bool {
        let callee = SyntaxFacts.calleeName(call)
        let last = SyntaxFacts.lastName(callee)
        let firstLabel = call.arguments.first?.label?.text ?? "_"
        for entry in configuration.cancellableCalls {
            if entry == callee || entry == last || entry == "\(last)(\(firstLabel):)" { return true }
        }
        return false
    }

    private func containsAwait(_ node: Syntax) -> Bool {
        node.tokens(viewMode: .sourceAccurate).contains { $0.tokenKind == .keyword(.await) }
    }

    // MARK: catch rules

    override func visit(_ node: DoStmtSyntax) -> SyntaxVisitorContinueKind {
        guard let clause = CatchAnalysis.clauseReceivingCancellation(node) else { return .visitChildren }
        let awaits = ThrowingAwaits.find(in: node.body)
        guard !awaits.isEmpty, !CatchAnalysis.awaitsOnlyTasksItCancelled(awaits, doStatement: node) else {
            return .visitChildren
        }
        // `do { try await x; XCTFail("should throw") } catch { }`: a test that expects the throw.
        if let last = node.body.statements.last, Self.isFailureReport(last) { return .visitChildren }
        // Awaits that cannot throw CancellationError (an EventLoopFuture's `get()`, a shutdown) cannot bring one in.
        let cancellable = awaits.filter { !isKnownUncancellable($0) }
        guard let cancellableAwait = cancellable.first else { return .visitChildren }
        let awaitNote = "the `try await` at line \(line(of: cancellableAwait)) can throw CancellationError when the task is cancelled"
        // When every await is a call by name, the module may declare those functions as unable to throw it.
        let names = cancellable.map { awaitedCall($0).flatMap(SyntaxFacts.ownCallName) }
        let ownAwaits = names.contains(nil) ? nil : names.compactMap { $0 }
        let verdict = CatchAnalysis.verdict(for: clause.clause, binding: clause.binding)
        if case .handles = verdict { return .visitChildren }
        if case .converts(let thrown) = verdict {
            findings.append(RawFinding(
                rule: .catchConvertsCancellation, node: Syntax(clause.clause.catchKeyword), endNode: clause.endNode,
                message: "\(clause.what) and throws `\(Self.short(thrown))` in its place",
                notes: [awaitNote], awaits: ownAwaits))
            return .visitChildren
        }
        guard let statement = node.parent?.as(CodeBlockItemSyntax.self) ?? SyntaxFacts.statement(holding: Syntax(node)) else {
            return .visitChildren
        }
        var follow = Follow.afterCatch(clause.clause, doStatement: statement)
        // `while running { … } catch { running = false }`: the catch stops the loop it is in.
        if case .loop(let loop) = follow, Self.clears(loopFlagOf: loop, in: clause.clause) { follow = .ends }
        if case .packsIntoResult(let failure) = verdict {
            // A Result read after the catch is how many APIs hand errors on; in a loop that goes round, the
            // cancellation becomes one more element and the work continues.
            let loop: Syntax
            switch follow {
            case .loop(let enclosing): loop = enclosing
            case .work:
                guard let enclosing = SyntaxFacts.enclosingLoop(Syntax(node)), !SyntaxFacts.loopEndsOnCancel(enclosing) else {
                    return .visitChildren
                }
                loop = enclosing
            case .checked, .ends: return .visitChildren
            }
            findings.append(RawFinding(
                rule: .cancellationIntoValue, node: Syntax(clause.clause.catchKeyword), endNode: clause.endNode,
                message: "\(clause.what) and stores it as `\(Self.short(failure))` inside a loop",
                notes: [awaitNote, "the loop at line \(line(of: loop)) goes round again after a cancellation"], awaits: ownAwaits))
            return .visitChildren
        }
        // `catch is CancellationError` chose to stop; only a loop that then goes round again is a swallow.
        if clause.explicit && !follow.isLoop { return .visitChildren }
        // A timer: the do only waits (`Task.sleep`), and its cancellation just ends the wait and the body.
        if case .ends = follow, cancellable.allSatisfy({ awaitedCall($0).map { cancellableCallMatches($0) } ?? false }) {
            return .visitChildren
        }
        // A fire-and-forget `Task {}` that ends here: nobody can tell how it ended.
        if case .ends = follow, Self.isInDiscardedTask(Syntax(node)) { return .visitChildren }
        let goesOn: String
        switch follow {
        case .checked: return .visitChildren
        case .work(let next): goesOn = "and the code after it runs (line \(line(of: next)))"
        case .loop(let loop): goesOn = "and the loop at line \(line(of: loop)) goes round again"
        case .ends: goesOn = "and returns normally"
        }
        findings.append(RawFinding(
            rule: .catchSwallowsCancellation, node: Syntax(clause.clause.catchKeyword), endNode: clause.endNode,
            message: "\(clause.what) \(goesOn)", notes: [awaitNote], awaits: ownAwaits))
        return .visitChildren
    }

    /// The call an await waits for: `await x.f()` or `try await x.f()`.
    private func awaitedCall(_ node: Syntax) -> FunctionCallExprSyntax? {
        guard let awaitExpr = node.as(AwaitExprSyntax.self) else { return nil }
        return SyntaxFacts.unparenthesized(awaitExpr.expression).as(FunctionCallExprSyntax.self)
    }

    /// Awaits by configuration known not to throw CancellationError.
    private func isKnownUncancellable(_ node: Syntax) -> Bool {
        guard let call = awaitedCall(node) else { return false }
        let callee = SyntaxFacts.calleeName(call)
        let last = SyntaxFacts.lastName(callee)
        let label = call.arguments.first.map { ($0.label?.text ?? "_") + ":" } ?? ""
        return configuration.uncancellableCalls.contains { $0 == callee || $0 == last || $0 == "\(last)(\(label))" }
    }

    /// Whether the body around a node is the closure of `Task {}`/`Task.detached {}` whose handle is dropped, or
    /// of a child task in a non-throwing `withDiscardingTaskGroup`: nobody can observe how either ends.
    static func isInDiscardedTask(_ node: Syntax) -> Bool {
        var current = node.parent
        while let candidate = current, !SyntaxFacts.isBodyBoundary(candidate) { current = candidate.parent }
        guard let closure = current?.as(ClosureExprSyntax.self), let call = SyntaxFacts.callReceiving(closure) else { return false }
        let callee = SyntaxFacts.calleeName(call)
        if ["addTask", "addTaskUnlessCancelled"].contains(SyntaxFacts.lastName(callee)) {
            var outer = Syntax(call).parent
            while let candidate = outer {
                if let groupClosure = candidate.as(ClosureExprSyntax.self), let groupCall = SyntaxFacts.callReceiving(groupClosure) {
                    return SyntaxFacts.calleeName(groupCall) == "withDiscardingTaskGroup"
                }
                outer = candidate.parent
            }
            return false
        }
        guard ["Task", "Task.detached"].contains(callee) else { return false }
        return call.parent?.is(CodeBlockItemSyntax.self) == true || call.parent?.is(ExpressionStmtSyntax.self) == true
    }

    /// Whether a catch sets the flag a `while flag`/`repeat … while flag` loop tests to `false`.
    static func clears(loopFlagOf loop: Syntax, in clause: CatchClauseSyntax) -> Bool {
        let condition: ExprSyntax?
        if let whileLoop = loop.as(WhileStmtSyntax.self), whileLoop.conditions.count == 1,
           let only = whileLoop.conditions.first, case .expression(let expression) = only.condition {
            condition = expression
        } else {
            condition = loop.as(RepeatStmtSyntax.self)?.condition
        }
        guard let flag = condition.flatMap({ SyntaxFacts.unparenthesized($0).as(DeclReferenceExprSyntax.self)?.baseName.text })
        else { return false }
        for item in clause.body.statements {
            guard let sequence = item.item.as(SequenceExprSyntax.self) ?? item.item.as(ExpressionStmtSyntax.self)?.expression.as(SequenceExprSyntax.self)
            else { continue }
            let elements = Array(sequence.elements)
            if elements.count == 3, elements[0].as(DeclReferenceExprSyntax.self)?.baseName.text == flag,
               elements[1].is(AssignmentExprSyntax.self), elements[2].as(BooleanLiteralExprSyntax.self)?.literal.tokenKind == .keyword(.false) {
                return true
            }
        }
        return false
    }

    /// `XCTFail(…)`, `Issue.record(…)`, `fatalError(…)` as a statement.
    static func isFailureReport(_ item: CodeBlockItemSyntax) -> Bool {
        guard let call = item.item.as(FunctionCallExprSyntax.self) ?? item.item.as(ExpressionStmtSyntax.self)?.expression.as(FunctionCallExprSyntax.self)
        else { return false }
        return SyntaxFacts.stoppingCalls.contains(SyntaxFacts.calleeName(call))
    }

    /// A thrown expression for a one-line message: its first line, cut.
    static func short(_ expression: ExprSyntax) -> String {
        let text = expression.trimmedDescription
        let first = text.split(separator: "\n").first.map(String.init) ?? text
        let cut = first.count > 60 ? String(first.prefix(60)) + "…" : first
        return cut + (first != text && !cut.hasSuffix("…") ? "…" : "")
    }

    // MARK: facts for the module pass

    override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind {
        guard let body = node.body else {
            declarations.append((node.name.text, CancellationThrowing.of(node, sources: .init())))
            return .visitChildren
        }
        let scan = AwaitedCalls.scan(body) { [unowned self] in self.isKnownUncancellable($0) }
        declarations.append((node.name.text, CancellationThrowing.of(node, sources: scan.throwing)))
        let calls = scan.calls.map { (name: $0.name, line: line(of: $0.node)) }
        functions.append(FunctionFacts(
            name: node.name.text, signature: SyntaxFacts.signature(node.name.text, node.signature.parameterClause),
            file: file, line: line(of: node.name), swallowsAt: nil, awaitedCalls: calls, bodyLines: lines(of: body)))
        return .visitChildren
    }

    override func visit(_ node: ClosureExprSyntax) -> SyntaxVisitorContinueKind {
        if SyntaxFacts.isTaskClosure(node) {
            let calls = AwaitedCalls.find(in: Syntax(node.statements))
            taskCalls.append(contentsOf: calls.map { TaskCall(name: $0.name, node: $0.node) })
            if let call = SyntaxFacts.callReceiving(node) {
                taskClosures.append(TaskClosure(callLine: line(of: call), lines: lines(of: node), awaitedCalls: calls.map(\.name)))
            }
        }
        return .visitChildren
    }

    override func visit(_ node: IdentifierPatternSyntax) -> SyntaxVisitorContinueKind {
        valueNames.insert(node.identifier.text)
        return .visitChildren
    }

    override func visit(_ node: FunctionParameterSyntax) -> SyntaxVisitorContinueKind {
        valueNames.insert((node.secondName ?? node.firstName).text)
        return .visitChildren
    }

    override func visit(_ node: ClosureParameterSyntax) -> SyntaxVisitorContinueKind {
        valueNames.insert((node.secondName ?? node.firstName).text)
        return .visitChildren
    }

    override func visit(_ node: ClosureShorthandParameterSyntax) -> SyntaxVisitorContinueKind {
        valueNames.insert(node.name.text)
        return .visitChildren
    }

    /// Marks each function that holds a swallowing catch, once all findings of the file are in.
    func markSwallowingFunctions() {
        for finding in findings where finding.rule == .catchSwallowsCancellation || finding.rule == .cancellationIntoValue {
            // Only a catch directly in the function's body (not in a closure it makes) swallows for its callers.
            var current = finding.node.parent
            while let candidate = current, !SyntaxFacts.isBodyBoundary(candidate) { current = candidate.parent }
            guard let function = current?.as(FunctionDeclSyntax.self),
                  let index = functions.firstIndex(where: { $0.line == line(of: function.name) && $0.name == function.name.text })
            else { continue }
            functions[index].swallowCandidates.append((at: "\(file):\(line(of: finding.node))", awaits: finding.awaits))
        }
    }
}

/// What runs after a statement when its task was cancelled and the statement swallowed that.
enum Follow {
    /// A later statement does work.
    case work(CodeBlockItemSyntax)
    /// The enclosing loop goes round again without checking cancellation.
    case loop(Syntax)
    /// A cancellation check (`Task.isCancelled`, `checkCancellation`, `CancellationError`) comes next.
    case checked
    /// The function or closure ends, or a `return`/`break`/`continue` comes next.
    case ends

    var isLoop: Bool {
        if case .loop = self { return true }
        return false
    }

    /// What runs after a catch clause: its own last `return`/`continue`/`break` decides, else what follows the `do`.
    static func afterCatch(_ clause: CatchClauseSyntax, doStatement: CodeBlockItemSyntax) -> Follow {
        guard let last = clause.body.statements.last else { return after(doStatement) }
        if last.item.is(ReturnStmtSyntax.self) && SyntaxFacts.isExit(last) { return .ends }
        if last.item.is(ContinueStmtSyntax.self), let loop = SyntaxFacts.enclosingLoop(Syntax(clause)) {
            return SyntaxFacts.loopEndsOnCancel(loop) ? .checked : .loop(loop)
        }
        if last.item.is(BreakStmtSyntax.self), let loop = SyntaxFacts.enclosingLoop(Syntax(clause)),
           let loopStatement = SyntaxFacts.statement(holding: loop) {
            return after(loopStatement)
        }
        return after(doStatement)
    }

    static func after(_ start: CodeBlockItemSyntax) -> Follow {
        var item = start
        while true {
            if let next = SyntaxFacts.following(item).first {
                if SyntaxFacts.mentions(next, anyOf: SyntaxFacts.cancellationWords) { return .checked }
                if SyntaxFacts.isExit(next) { return .ends }
                return .work(next)
            }
            guard let list = item.parent?.as(CodeBlockItemListSyntax.self), let owner = list.parent else { return .ends }
            var container: Syntax = owner
            if owner.is(CodeBlockSyntax.self), let parent = owner.parent { container = parent }
            if SyntaxFacts.isBodyBoundary(container) || container.is(SourceFileSyntax.self) { return .ends }
            if container.is(ForStmtSyntax.self) || container.is(WhileStmtSyntax.self) || container.is(RepeatStmtSyntax.self) {
                if SyntaxFacts.loopEndsOnCancel(container) { return .checked }
                return .loop(container)
            }
            guard let outer = SyntaxFacts.statement(holding: container) else { return .ends }
            // A `defer` body runs at scope exit; what follows it in source is not what follows it at run time.
            if container.is(DeferStmtSyntax.self) { return .ends }
            item = outer
        }
    }
}
