import Logging

/// A key for a typed value carried in a `RequestContext`, e.g. the signed-in user set by an
/// authentication middleware: `enum CurrentUser: RequestContextKey { typealias Value = User }`.
public protocol RequestContextKey {
    associatedtype Value: Sendable
}

/// What the server knows about a request besides the request itself.
public struct RequestContext: Sendable {
    /// Unique per request; echoed in the `X-Request-Id` header and on error pages.
    public let requestID: String
    /// A logger whose metadata carries the request id.
    public var logger: Logger
    /// Values of the route's `:name` and `*name` segments.
    public var parameters: [String: String]
    private var values: [ObjectIdentifier: any Sendable] = [:]

    public init(requestID: String, logger: Logger, parameters: [String: String] = [:]) {
        self.requestID = requestID
        var logger = logger
        logger[metadataKey: "request"] = "\(requestID)"
        self.logger = logger
        self.parameters = parameters
    }

    /// The typed value stored for `key`, if a middleware set one.
    public subscript<Key: RequestContextKey>(_ key: Key.Type) -> Key.Value? {
        get { values[ObjectIdentifier(key)] as? Key.Value }
        set { values[ObjectIdentifier(key)] = newValue }
    }

    /// The value of a path parameter, or a 400 when it is missing.
    public func parameter(_ name: String) throws(HTTPError) -> String {
        guard let value = parameters[name] else { throw HTTPError(.badRequest, "missing path parameter \(name)") }
        return value
    }
}
