import SwiftSyntax

/// Which catch clause receives a CancellationError, and what its body does with it.
enum CatchAnalysis {
    struct Receiver {
        var clause: CatchClauseSyntax
        /// The name the error is bound to in the body (`error` for a bare catch), or nil for `catch is …`/`_`.
        var binding: String?
        /// How the finding describes the clause: `a bare catch catches CancellationError`.
        var what: String
        /// The last token of the clause head, for the finding's region.
        var endNode: Syntax
        /// `catch is CancellationError`: the author chose to handle cancellation here.
        var explicit = false
    }

    private enum Catches { case everything(String?), cancellation(String?), other, unknown }

    /// The first clause that a CancellationError would land in, if it lands in one whose shape we understand.
    static func clauseReceivingCancellation(_ statement: DoStmtSyntax) -> Receiver? {
        for clause in statement.catchClauses {
            let head = clause.catchItems.isEmpty ? Syntax(clause.catchKeyword) : Syntax(clause.catchItems)
            if clause.catchItems.isEmpty {
                return Receiver(clause: clause, binding: "error", what: "a bare `catch` catches CancellationError", endNode: head)
            }
            for item in clause.catchItems {
                switch catches(item) {
                case .everything(let name):
                    return Receiver(clause: clause, binding: name,
                                    what: "`catch \(item.trimmedDescription)` catches CancellationError", endNode: head)
                case .cancellation(let name):
                    return Receiver(clause: clause, binding: name,
                                    what: "`catch \(item.trimmedDescription)` catches the cancellation", endNode: head,
                                    explicit: true)
                case .unknown:
                    return nil
                case .other:
                    continue
                }
            }
        }
        return nil
    }

    private static func catches(_ item: CatchItemSyntax) -> Catches {
        guard item.whereClause == nil else { return .unknown }
        guard let pattern = item.pattern else { return .everything("error") }
        let text = pattern.trimmedDescription
        if text == "_" { return .everything(nil) }
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        if words.count == 2, words[0] == "let" || words[0] == "var" { return .everything(String(words[1])) }
        if text.contains("CancellationError") {
            if words.count >= 4, words[0] == "let" || words[0] == "var", words[2] == "as" { return .cancellation(String(words[1])) }
            return .cancellation(nil)
        }
        if text.contains("Error") && !text.contains(".") && words.count >= 4, words[2] == "as",
           ["any Error", "Error", "Swift.Error", "any Swift.Error"].contains(words[3...].joined(separator: " ")) {
            return .everything(String(words[1]))
        }
        return .other
    }

    enum Verdict {
        /// Rethrows, checks for cancellation, hands the error on, or stops the program or the test.
        case handles
        /// Throws a new error and never the caught one.
        case converts(ExprSyntax)
        /// Stores `.failure(error)` in a variable: the value, not the task, now says what happened.
        case packsIntoResult(ExprSyntax)
        /// None of the above: the code goes on.
        case swallows
    }

    static func verdict(for clause: CatchClauseSyntax, binding: String?) -> Verdict {
        let body = Syntax(clause.body)
        if SyntaxFacts.mentions(body, anyOf: SyntaxFacts.cancellationWords) { return .handles }
        let scan = BodyScan(binding: binding)
        scan.walk(body)
        if scan.rethrowsError || scan.stops || scan.forwards { return .handles }
        if let thrown = scan.otherThrow { return .converts(thrown) }
        if let failure = scan.failureValue { return .packsIntoResult(failure) }
        return .swallows
    }

    /// Whether every throwing await in a do body awaits `t.value`/`t.result` of a task the same function cancelled
    /// before it: the canceller collecting the task it stopped.
    static func awaitsOnlyTasksItCancelled(_ awaits: [Syntax], doStatement: DoStmtSyntax) -> Bool {
        var bases: Set<String> = []
        for awaited in awaits {
            guard let member = awaitedMember(awaited), ["value", "result"].contains(member.declName.baseName.text),
                  let base = member.base
            else { return false }
            bases.insert(base.trimmedDescription)
        }
        var scope: Syntax? = Syntax(doStatement).parent
        while let candidate = scope, !SyntaxFacts.isBodyBoundary(candidate) { scope = candidate.parent }
        guard let function = scope else { return false }
        let doStart = doStatement.positionAfterSkippingLeadingTrivia
        var cancelled: Set<String> = []
        for token in function.tokens(viewMode: .sourceAccurate)
        where token.text == "cancel" && token.positionAfterSkippingLeadingTrivia < doStart {
            if let member = token.parent?.parent?.as(MemberAccessExprSyntax.self), let base = member.base {
                cancelled.insert(base.trimmedDescription)
            }
        }
        return bases.isSubset(of: cancelled)
    }

    private static func awaitedMember(_ node: Syntax) -> MemberAccessExprSyntax? {
        if let awaitExpr = node.as(AwaitExprSyntax.self) {
            return SyntaxFacts.unparenthesized(awaitExpr.expression).as(MemberAccessExprSyntax.self)
        }
        return nil
    }
}

/// Reads a catch body once: does it rethrow, throw a new error, stop, hand the error on, or store a Result?
private final class BodyScan: SyntaxVisitor {
    let binding: String?
    var rethrowsError = false
    var otherThrow: ExprSyntax?
    var stops = false
    var forwards = false
    var failureValue: ExprSyntax?

    /// Calls that only print the error: passing it to them is not handing it on.
    static let printers: Set<String> = ["print", "debugPrint", "NSLog", "dump", "String", "describing"]

    init(binding: String?) {
        self.binding = binding
        super.init(viewMode: .sourceAccurate)
    }

    /// Inside a closure (not a new task's): a call there can still hand the error on
    /// (`lock.withLock { state.failed(error) }`), but its `throw`, `return` and stops are the closure's own.
    private var closureDepth = 0

    override func visit(_ node: ClosureExprSyntax) -> SyntaxVisitorContinueKind {
        if SyntaxFacts.isTaskClosure(node) { return .skipChildren }
        closureDepth += 1
        return .visitChildren
    }
    override func visitPost(_ node: ClosureExprSyntax) {
        if !SyntaxFacts.isTaskClosure(node) { closureDepth -= 1 }
    }
    override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind { .skipChildren }

    /// `error`, or `error` force-cast to another error type (the same error under a static type), without parentheses.
    private static func uncast(_ expression: ExprSyntax) -> ExprSyntax {
        var value = SyntaxFacts.unparenthesized(expression)
        if let cast = value.as(AsExprSyntax.self) { value = SyntaxFacts.unparenthesized(cast.expression) }
        if let sequence = value.as(SequenceExprSyntax.self), sequence.elements.count == 3,
           sequence.elements.dropFirst().first?.is(UnresolvedAsExprSyntax.self) == true, let first = sequence.elements.first {
            value = SyntaxFacts.unparenthesized(first)
        }
        return value
    }

    private func isBinding(_ expression: ExprSyntax) -> Bool {
        guard let binding else { return false }
        return Self.uncast(expression).as(DeclReferenceExprSyntax.self)?.baseName.text == binding
    }

    override func visit(_ node: ThrowStmtSyntax) -> SyntaxVisitorContinueKind {
        guard closureDepth == 0 else { return .visitChildren }
        // `throw error`, or `throw saved`: an error that already exists goes on; a new one replaces it. A cast
        // (`throw error` force-cast to the function's error type) is the same error under a static type.
        if Self.uncast(node.expression).is(DeclReferenceExprSyntax.self) {
            rethrowsError = true
        } else if otherThrow == nil {
            otherThrow = node.expression
        }
        return .visitChildren
    }

    override func visit(_ node: ReturnStmtSyntax) -> SyntaxVisitorContinueKind {
        // `return .failure(error)`, `return .threw(error)`: the caller receives the error as a value.
        if closureDepth == 0, let binding, let value = node.expression, SyntaxFacts.mentions(value, anyOf: [binding]) { forwards = true }
        return .visitChildren
    }

    override func visit(_ node: MacroExpansionExprSyntax) -> SyntaxVisitorContinueKind {
        // `#expect(error is X)`: a test looks at the error it got.
        if closureDepth == 0, let binding, ["expect", "require"].contains(node.macroName.text), SyntaxFacts.mentions(node, anyOf: [binding]) {
            stops = true
        }
        return .visitChildren
    }

    override func visit(_ node: InfixOperatorExprSyntax) -> SyntaxVisitorContinueKind {
        if node.operator.is(AssignmentExprSyntax.self) { noteAssignment(of: node.rightOperand) }
        return .visitChildren
    }

    override func visit(_ node: SequenceExprSyntax) -> SyntaxVisitorContinueKind {
        // The parser does not fold operators: `a = b` is the sequence [a, =, b].
        let elements = Array(node.elements)
        if elements.count == 3, elements[1].is(AssignmentExprSyntax.self) { noteAssignment(of: elements[2]) }
        return .visitChildren
    }

    /// `saved = error` keeps the error to be thrown or reported later; `result = .failure(error)` packs it.
    private func noteAssignment(of assigned: ExprSyntax) {
        guard let binding else { return }
        let value = SyntaxFacts.unparenthesized(assigned)
        if isBinding(value) {
            forwards = true
        } else if let call = value.as(FunctionCallExprSyntax.self), SyntaxFacts.lastName(SyntaxFacts.calleeName(call)) == "failure",
                  SyntaxFacts.mentions(call, anyOf: [binding]) {
            failureValue = failureValue ?? value
        }
    }

    override func visit(_ node: FunctionCallExprSyntax) -> SyntaxVisitorContinueKind {
        let callee = SyntaxFacts.calleeName(node)
        let last = SyntaxFacts.lastName(callee)
        if SyntaxFacts.stoppingCalls.contains(callee) || SyntaxFacts.stoppingCalls.contains(last) { stops = true }
        guard let binding else { return .visitChildren }
        // A test assertion about the error it caught.
        if (last.hasPrefix("XCTAssert") || last == "XCTUnwrap"), SyntaxFacts.mentions(node, anyOf: [binding]) { stops = true }
        // Handing the error on: `promise.fail(error)`, `continuation.resume(throwing: error)`, `handler(error)`,
        // `writer.write(.error(error))`, `emit(.failure(error))` (also force-cast), also from a closure
        // (`lock.withLock { state.threw(error) }`). Only the error itself as an argument counts: `"\(error)"` is a message.
        let passesError = node.arguments.contains { isBinding($0.expression) }
        if passesError && last != "failure" && !Self.printers.contains(last) && !isThrown(node) {
            forwards = true
        }
        if passesError && last == "failure" && node.parent?.is(LabeledExprSyntax.self) == true { forwards = true }
        return .visitChildren
    }

    /// `throw Wrapped(cause: error)` makes a new error of the caught one: a conversion, not a hand-off.
    private func isThrown(_ node: FunctionCallExprSyntax) -> Bool {
        var current = node.parent
        while let candidate = current, !candidate.is(CodeBlockItemSyntax.self) {
            if candidate.is(ThrowStmtSyntax.self) { return true }
            current = candidate.parent
        }
        return false
    }
}

/// The throwing awaits of a do body whose errors reach its catch clauses: `try await …` and `for try await`,
/// skipping new tasks' closures, nested functions and inner do statements that catch everything.
enum ThrowingAwaits {
    static func find(in body: CodeBlockSyntax) -> [Syntax] {
        let finder = Finder(root: Syntax(body))
        finder.walk(body)
        return finder.found
    }

    private final class Finder: SyntaxVisitor {
        let root: Syntax
        var found: [Syntax] = []

        init(root: Syntax) {
            self.root = root
            super.init(viewMode: .sourceAccurate)
        }

        override func visit(_ node: ClosureExprSyntax) -> SyntaxVisitorContinueKind {
            SyntaxFacts.isTaskClosure(node) ? .skipChildren : .visitChildren
        }
        override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind { .skipChildren }
        override func visit(_ node: DoStmtSyntax) -> SyntaxVisitorContinueKind {
            // An inner do whose catches take everything keeps its body's errors; its catch bodies still count.
            if CatchAnalysis.clauseReceivingCancellation(node) != nil {
                for clause in node.catchClauses { walk(clause.body) }
                return .skipChildren
            }
            return .visitChildren
        }

        override func visit(_ node: AwaitExprSyntax) -> SyntaxVisitorContinueKind {
            if SyntaxFacts.isUnderPlainTry(Syntax(node), within: root) { found.append(Syntax(node)) }
            return .visitChildren
        }

        override func visit(_ node: ForStmtSyntax) -> SyntaxVisitorContinueKind {
            if node.tryKeyword != nil && node.awaitKeyword != nil { found.append(Syntax(node)) }
            return .visitChildren
        }
    }
}

/// Calls a body awaits (`await name(…)`, `try await self.name(…)`), by last name, for the module pass; and where
/// an error thrown out of the body could come from, for `CancellationThrowing`.
enum AwaitedCalls {
    static func find(in root: Syntax) -> [(name: String, node: Syntax)] {
        let finder = Finder(root: root, uncancellable: { _ in false })
        finder.walk(root)
        return finder.found
    }

    /// Both answers of one walk over a function body; awaits `uncancellable` accepts (an `EventLoopFuture.get()`)
    /// are no source of CancellationError.
    static func scan(_ body: CodeBlockSyntax, uncancellable: @escaping (Syntax) -> Bool)
        -> (calls: [(name: String, node: Syntax)], throwing: CancellationThrowing.Sources)
    {
        let finder = Finder(root: Syntax(body), uncancellable: uncancellable)
        finder.walk(body)
        return (finder.found, finder.sources)
    }

    private final class Finder: SyntaxVisitor {
        let root: Syntax
        var found: [(name: String, node: Syntax)] = []
        var sources = CancellationThrowing.Sources()
        let uncancellable: (Syntax) -> Bool

        init(root: Syntax, uncancellable: @escaping (Syntax) -> Bool) {
            self.root = root
            self.uncancellable = uncancellable
            super.init(viewMode: .sourceAccurate)
        }

        override func visit(_ node: ClosureExprSyntax) -> SyntaxVisitorContinueKind {
            SyntaxFacts.isTaskClosure(node) ? .skipChildren : .visitChildren
        }
        override func visit(_ node: FunctionDeclSyntax) -> SyntaxVisitorContinueKind { .skipChildren }

        override func visit(_ node: AwaitExprSyntax) -> SyntaxVisitorContinueKind {
            var expression = SyntaxFacts.unparenthesized(node.expression)
            var innerTry = false
            if let tryExpr = expression.as(TryExprSyntax.self) {
                expression = tryExpr.expression
                innerTry = tryExpr.questionOrExclamationMark == nil
            }
            let call = expression.as(FunctionCallExprSyntax.self)
            // Only plain calls and calls on self: `x.run()` could be any type's `run`.
            let name = call.flatMap(SyntaxFacts.ownCallName)
            if let call, let name { found.append((name, Syntax(call))) }
            if (innerTry || SyntaxFacts.isUnderPlainTry(Syntax(node), within: root)) && !uncancellable(Syntax(node)) {
                if let name { sources.awaited.insert(name) } else { sources.unknown = true }
            }
            return .visitChildren
        }

        override func visit(_ node: FunctionCallExprSyntax) -> SyntaxVisitorContinueKind {
            // A synchronous call under `try`: only a function of the module could be one that checks cancellation.
            if let name = SyntaxFacts.ownCallName(node), !isAwaited(node), SyntaxFacts.isUnderPlainTry(Syntax(node), within: root) {
                sources.synchronous.insert(name)
            }
            return .visitChildren
        }

        override func visit(_ node: ForStmtSyntax) -> SyntaxVisitorContinueKind {
            if node.tryKeyword != nil && node.awaitKeyword != nil { sources.unknown = true }
            return .visitChildren
        }

        private func isAwaited(_ call: FunctionCallExprSyntax) -> Bool {
            var current = call.parent
            while let candidate = current, candidate.is(TryExprSyntax.self) || candidate.is(TupleExprSyntax.self)
                || candidate.is(LabeledExprSyntax.self) && candidate.parent?.parent?.is(TupleExprSyntax.self) == true
                || candidate.is(LabeledExprListSyntax.self) && candidate.parent?.is(TupleExprSyntax.self) == true {
                current = candidate.parent
            }
            return current?.is(AwaitExprSyntax.self) == true
        }
    }
}
