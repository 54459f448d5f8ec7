import SwiftSyntax

/// Small questions about Swift syntax the rules share. Everything here reads the parse tree only: the linter
/// never type-checks, so names are matched as written.
enum SyntaxFacts {
    /// Calls whose trailing or last closure runs as a new task: its errors do not reach the caller's catch, and
    /// code in it is "a task" for `task-calls-swallowing-helper`.
    static let taskSpawners: Set<String> = [
        "Task", "Task.detached", "addTask", "addTaskUnlessCancelled", "addDiscardingTask",
        "addDiscardingTaskUnlessCancelled", "addImmediateTask", "Task.immediate",
    ]

    /// Calls after which the catch has reported the error in a way that is not "going on normally".
    static let stoppingCalls: Set<String> = [
        "fatalError", "preconditionFailure", "XCTFail", "Issue.record", "exit", "abort", "assertionFailure",
    ]

    /// Names in a catch body that mean the code looked at cancellation itself.
    static let cancellationWords: Set<String> = ["isCancelled", "checkCancellation", "CancellationError"]

    /// The called expression without generic arguments: `Task<Void, Never>.detached` → `Task.detached`.
    static func calleeName(_ call: FunctionCallExprSyntax) -> String {
        calleeName(call.calledExpression)
    }

    static func calleeName(_ expression: ExprSyntax) -> String {
        if let member = expression.as(MemberAccessExprSyntax.self) {
            let name = member.declName.baseName.text
            guard let base = member.base else { return name }
            return calleeName(base) + "." + name
        }
        if let specialized = expression.as(GenericSpecializationExprSyntax.self) {
            return calleeName(specialized.expression)
        }
        if let reference = expression.as(DeclReferenceExprSyntax.self) { return reference.baseName.text }
        return expression.trimmedDescription
    }

    /// The name of a call that can only mean a function of the code being linted, or one imported by name:
    /// `handle(…)` or `self.handle(…)` → `handle`. Nil for `x.handle(…)`, which could be any type's `handle`.
    static func ownCallName(_ call: FunctionCallExprSyntax) -> String? {
        let parts = calleeName(call).split(separator: ".")
        guard parts.count == 1 || (parts.count == 2 && parts[0] == "self") else { return nil }
        return parts.last.map(String.init)
    }

    /// Whether an expression is below a plain `try` (not the optional or forced forms) in its own statement or closure: its error
    /// propagates to the enclosing catch or out of the function.
    static func isUnderPlainTry(_ node: Syntax, within root: Syntax) -> Bool {
        var current = node.parent
        while let candidate = current, candidate != root {
            if let tryExpr = candidate.as(TryExprSyntax.self) { return tryExpr.questionOrExclamationMark == nil }
            if candidate.is(CodeBlockItemSyntax.self) || candidate.is(ClosureExprSyntax.self) { return false }
            current = candidate.parent
        }
        return false
    }

    /// The last name of a callee: `self.group.addTask` → `addTask`.
    static func lastName(_ callee: String) -> String {
        callee.split(separator: ".").last.map(String.init) ?? callee
    }

    /// Strips parentheses: `((x))` → `x`.
    static func unparenthesized(_ expression: ExprSyntax) -> ExprSyntax {
        if let tuple = expression.as(TupleExprSyntax.self), tuple.elements.count == 1, let only = tuple.elements.first,
           only.label == nil {
            return unparenthesized(only.expression)
        }
        return expression
    }

    /// The call a closure is passed to, when it is a trailing closure or an argument.
    static func callReceiving(_ closure: ClosureExprSyntax) -> FunctionCallExprSyntax? {
        var node: Syntax = Syntax(closure)
        for _ in 0..<4 {
            guard let parent = node.parent else { return nil }
            if let call = parent.as(FunctionCallExprSyntax.self) { return call }
            if parent.is(MultipleTrailingClosureElementSyntax.self) || parent.is(MultipleTrailingClosureElementListSyntax.self)
                || parent.is(LabeledExprSyntax.self) || parent.is(LabeledExprListSyntax.self) {
                node = parent
                continue
            }
            return nil
        }
        return nil
    }

    /// Whether a closure is the body of a new task.
    static func isTaskClosure(_ closure: ClosureExprSyntax) -> Bool {
        guard let call = callReceiving(closure) else { return false }
        let callee = calleeName(call)
        return taskSpawners.contains(callee) || taskSpawners.contains(lastName(callee))
    }

    /// Whether a node is where a function-like body starts: code below it runs at another time.
    static func isBodyBoundary(_ node: Syntax) -> Bool {
        node.is(FunctionDeclSyntax.self) || node.is(InitializerDeclSyntax.self) || node.is(AccessorDeclSyntax.self)
            || node.is(DeinitializerDeclSyntax.self) || node.is(ClosureExprSyntax.self) || node.is(SubscriptDeclSyntax.self)
            || node.is(VariableDeclSyntax.self) && node.parent?.is(MemberBlockItemSyntax.self) == true
    }

    /// A readable name for the function-like body around a node: `run()`, `init(config:)`, `closure in run()`.
    static func enclosingFunction(_ node: Syntax) -> String {
        var current = node.parent
        var closures = 0
        while let candidate = current {
            if let function = candidate.as(FunctionDeclSyntax.self) {
                return prefix(closures) + signature(function.name.text, function.signature.parameterClause)
            }
            if let initializer = candidate.as(InitializerDeclSyntax.self) {
                return prefix(closures) + signature("init", initializer.signature.parameterClause)
            }
            if let accessor = candidate.as(AccessorDeclSyntax.self) {
                return prefix(closures) + accessor.accessorSpecifier.text
            }
            if candidate.is(DeinitializerDeclSyntax.self) { return prefix(closures) + "deinit" }
            if candidate.is(ClosureExprSyntax.self) { closures += 1 }
            current = candidate.parent
        }
        return closures > 0 ? "closure at top level" : "top level"
    }

    private static func prefix(_ closures: Int) -> String { closures > 0 ? "closure in " : "" }

    static func signature(_ name: String, _ parameters: FunctionParameterClauseSyntax) -> String {
        let labels = parameters.parameters.map { ($0.firstName.text == "_" ? "_" : $0.firstName.text) + ":" }
        return "\(name)(\(labels.joined()))"
    }

    /// Whether any token below a node is one of `words` (identifiers only, so comments and strings do not count).
    static func mentions(_ node: some SyntaxProtocol, anyOf words: Set<String>) -> Bool {
        for token in node.tokens(viewMode: .sourceAccurate) {
            if case .identifier(let text) = token.tokenKind, words.contains(text) { return true }
        }
        return false
    }

    /// The loop statement a node is inside, without leaving its function-like body.
    static func enclosingLoop(_ node: Syntax) -> Syntax? {
        var current = node.parent
        while let candidate = current, !isBodyBoundary(candidate) {
            if candidate.is(ForStmtSyntax.self) || candidate.is(WhileStmtSyntax.self) || candidate.is(RepeatStmtSyntax.self) {
                return candidate
            }
            current = candidate.parent
        }
        return nil
    }

    /// Whether a loop stops by itself once its task is cancelled: its condition or body checks cancellation, or it
    /// iterates an async sequence (which ends or throws on cancellation).
    static func loopEndsOnCancel(_ loop: Syntax) -> Bool {
        if let forLoop = loop.as(ForStmtSyntax.self), forLoop.awaitKeyword != nil { return true }
        // Not `CancellationError`: a `catch is CancellationError` in the loop is judged by the catch rules.
        return mentions(loop, anyOf: ["isCancelled", "checkCancellation"])
    }

    /// The code-block item (statement) that holds a node, and the list it is in.
    static func statement(holding node: Syntax) -> CodeBlockItemSyntax? {
        var current: Syntax? = node
        while let candidate = current, !isBodyBoundary(candidate) || candidate == node {
            if let item = candidate.as(CodeBlockItemSyntax.self) { return item }
            current = candidate.parent
        }
        return nil
    }

    /// Statements after `item` in the same block.
    static func following(_ item: CodeBlockItemSyntax) -> [CodeBlockItemSyntax] {
        guard let list = item.parent?.as(CodeBlockItemListSyntax.self) else { return [] }
        var after: [CodeBlockItemSyntax] = []
        var seen = false
        for element in list {
            if seen { after.append(element) }
            if element.id == item.id { seen = true }
        }
        return after
    }

    /// A statement that does no further work: `return` (without a value that awaits), `break`, `continue`.
    static func isExit(_ item: CodeBlockItemSyntax) -> Bool {
        if let returned = item.item.as(ReturnStmtSyntax.self) {
            return returned.expression.map { !$0.tokens(viewMode: .sourceAccurate).contains { $0.tokenKind == .keyword(.await) } } ?? true
        }
        return item.item.is(BreakStmtSyntax.self) || item.item.is(ContinueStmtSyntax.self)
    }
}
