import SwiftSyntax

/// Whether a function of the linted code can throw CancellationError, as far as its declaration and body show.
///
/// This is the one thing the linter learns about types: a module's own functions are declared in the files it
/// parses, so `try await self.decode()` around a `decode` that only throws its own errors cannot bring a
/// cancellation into a catch. Anything not declared there is assumed to throw it when awaited.
enum CancellationThrowing: Sendable, Equatable {
    /// It does not throw (`async` without `throws`), or throws only a named error type (`throws(ParseError)`) that is
    /// not a generic parameter (`throws(E)` could be `throws(CancellationError)`).
    case never
    /// It throws, and a CancellationError could only come from these functions of the module it calls under `try`.
    case only(through: Sources)
    /// It can: it awaits something that is not a function of the module (nor a call configured as uncancellable,
    /// `LintConfiguration.uncancellableCalls`), iterates with `for try await`, names
    /// `checkCancellation`/`CancellationError`, `rethrows`, or has no body to read.
    case can

    /// Where an error thrown out of a body can come from.
    struct Sources: Sendable, Equatable {
        /// Functions awaited under `try`, by name (`try await f()`, `try await self.f()`).
        var awaited: Set<String> = []
        /// Functions called under `try` without `await`, by name: only the module's own can check cancellation.
        var synchronous: Set<String> = []
        /// Something else is awaited under `try` (`try await x.f()`, `try await task.value`), or a `for try await`.
        var unknown = false
    }

    /// Error types whose `throws(…)` can carry a CancellationError.
    private static let openErrorTypes: Set<String> = ["any Error", "Error", "Swift.Error", "any Swift.Error", "CancellationError"]

    static func of(_ function: FunctionDeclSyntax, sources: Sources) -> CancellationThrowing {
        guard let clause = function.signature.effectSpecifiers?.throwsClause else { return .never }
        if clause.throwsSpecifier.tokenKind == .keyword(.rethrows) { return .can }
        if let type = clause.type, !openErrorTypes.contains(type.trimmedDescription),
           !mayBeGenericParameter(type.trimmedDescription, around: function) {
            return .never
        }
        guard let body = function.body else { return .can }
        if sources.unknown || SyntaxFacts.mentions(body, anyOf: ["checkCancellation", "CancellationError"]) { return .can }
        return .only(through: sources)
    }

    /// Whether a typed-throws name could stand for any error: a generic parameter of the function or of the type
    /// around it, or anything inside an extension or protocol (whose generic parameters are declared elsewhere).
    private static func mayBeGenericParameter(_ name: String, around function: FunctionDeclSyntax) -> Bool {
        var current: Syntax? = Syntax(function)
        while let node = current {
            let clause: GenericParameterClauseSyntax?
            if let decl = node.as(FunctionDeclSyntax.self) { clause = decl.genericParameterClause }
            else if let decl = node.as(StructDeclSyntax.self) { clause = decl.genericParameterClause }
            else if let decl = node.as(ClassDeclSyntax.self) { clause = decl.genericParameterClause }
            else if let decl = node.as(EnumDeclSyntax.self) { clause = decl.genericParameterClause }
            else if let decl = node.as(ActorDeclSyntax.self) { clause = decl.genericParameterClause }
            else if node.is(ExtensionDeclSyntax.self) || node.is(ProtocolDeclSyntax.self) { return true }
            else { clause = nil }
            if clause?.parameters.contains(where: { $0.name.text == name }) == true { return true }
            current = node.parent
        }
        return false
    }
}
