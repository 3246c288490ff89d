/// A handler: turns a request into a response, or throws (`HTTPError` for the user to see).
public typealias HTTPHandler = @Sendable (HTTPRequest, inout RequestContext) throws -> HTTPResponse

/// Where a handler runs.
public enum HandlerExecution: Sendable {
    /// On the connection's event-loop thread: for handlers that never block (cached pages,
    /// static files, event streams). No thread hand-off, so the fastest path.
    case loop
    /// On the server's worker pool: for handlers that may block (database calls).
    case worker
}

/// Wraps every handler: authentication, logging, headers. Call `next` to go on, or answer
/// directly to stop the chain.
public protocol HTTPMiddleware: Sendable {
    func handle(
        _ request: HTTPRequest, context: inout RequestContext,
        next: (HTTPRequest, inout RequestContext) throws -> HTTPResponse
    ) throws -> HTTPResponse
}

/// Maps method and path to handlers. Patterns are `/`-separated literals, `:name` for one
/// segment and a final `*name` for the rest of the path: `/machines/:id/timeline`,
/// `/static/*file`. Literals win over parameters, parameters over the wildcard.
///
/// A path that matches with another method answers 405 with `Allow`; HEAD is served by the GET
/// handler when no HEAD route exists. Build the router once at start; it is immutable while
/// the server runs, and a duplicate or malformed route stops the start-up.
public struct Router: Sendable {
    public struct Route: Sendable {
        public var pattern: String
        public var execution: HandlerExecution
        public var handler: HTTPHandler
    }

    public enum Match: Sendable {
        case found(Route, parameters: [String: String])
        case methodNotAllowed(allow: [String])
        case notFound
    }

    private final class Node: @unchecked Sendable {
        // Mutated only while the router is built, before it is shared.
        var literals: [String: Node] = [:]
        var parameter: (name: String, node: Node)?
        var wildcard: (name: String, routes: [String: Route])?
        var routes: [String: Route] = [:]
    }

    private let root = Node()
    public private(set) var middleware: [any HTTPMiddleware] = []

    public init() {}

    /// Adds a route. Throws for a duplicate or a malformed pattern.
    public mutating func add(_ method: String, _ pattern: String, execution: HandlerExecution = .worker, _ handler: @escaping HTTPHandler) throws(RouterError) {
        let route = Route(pattern: pattern, execution: execution, handler: handler)
        guard pattern.hasPrefix("/") else { throw RouterError("route '\(pattern)' must start with /") }
        let segments = pattern.split(separator: "/")
        var node = root
        for (index, segment) in segments.enumerated() {
            if segment.hasPrefix("*") {
                guard index == segments.count - 1, segment.count > 1 else {
                    throw RouterError("route '\(pattern)': a *wildcard must be the last segment and have a name")
                }
                var wildcard = node.wildcard ?? (String(segment.dropFirst()), [:])
                guard wildcard.routes[method] == nil else { throw RouterError("duplicate route \(method) \(pattern)") }
                wildcard.routes[method] = route
                node.wildcard = wildcard
                return
            } else if segment.hasPrefix(":") {
                let name = String(segment.dropFirst())
                guard !name.isEmpty else { throw RouterError("route '\(pattern)': a :parameter needs a name") }
                if let existing = node.parameter {
                    guard existing.name == name else {
                        throw RouterError("route '\(pattern)': parameter :\(name) clashes with :\(existing.name) at the same place")
                    }
                    node = existing.node
                } else {
                    let child = Node()
                    node.parameter = (name, child)
                    node = child
                }
            } else {
                let child = node.literals[String(segment)] ?? Node()
                node.literals[String(segment)] = child
                node = child
            }
        }
        guard node.routes[method] == nil else { throw RouterError("duplicate route \(method) \(pattern)") }
        node.routes[method] = route
    }

    public mutating func get(_ pattern: String, execution: HandlerExecution = .worker, _ handler: @escaping HTTPHandler) throws(RouterError) {
        try add("GET", pattern, execution: execution, handler)
    }

    public mutating func post(_ pattern: String, execution: HandlerExecution = .worker, _ handler: @escaping HTTPHandler) throws(RouterError) {
        try add("POST", pattern, execution: execution, handler)
    }

    /// Adds a middleware; the first added runs first (outermost).
    public mutating func use(_ middleware: any HTTPMiddleware) {
        self.middleware.append(middleware)
    }

    /// Finds the route for a method and decoded path segments.
    public func match(method: String, segments: [String]) -> Match {
        var parameters: [String: String] = [:]
        guard let routes = find(root, segments[...], &parameters) else { return .notFound }
        if let route = routes[method] ?? (method == "HEAD" ? routes["GET"] : nil) {
            return .found(route, parameters: parameters)
        }
        var allow = Set(routes.keys)
        if allow.contains("GET") { allow.insert("HEAD") }
        return .methodNotAllowed(allow: allow.sorted())
    }

    private func find(_ node: Node, _ segments: ArraySlice<String>, _ parameters: inout [String: String]) -> [String: Route]? {
        guard let segment = segments.first else {
            if !node.routes.isEmpty { return node.routes }
            // `/files/*path` also answers `/files/` with an empty path.
            if let wildcard = node.wildcard {
                parameters[wildcard.name] = ""
                return wildcard.routes
            }
            return nil
        }
        let rest = segments.dropFirst()
        if let child = node.literals[segment], let routes = find(child, rest, &parameters) { return routes }
        if let (name, child) = node.parameter {
            var attempt = parameters
            attempt[name] = segment
            if let routes = find(child, rest, &attempt) {
                parameters = attempt
                return routes
            }
        }
        if let wildcard = node.wildcard {
            parameters[wildcard.name] = segments.joined(separator: "/")
            return wildcard.routes
        }
        return nil
    }
}

/// A route that cannot be added.
public struct RouterError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
