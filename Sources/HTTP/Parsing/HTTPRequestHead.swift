/// The request line and header fields of one request (RFC 9112 sections 3 and 5).
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method token, case-sensitive (`GET`, `POST`, …).
    public var method: String
    /// The request-target exactly as sent (origin-form `/path?query` in practice).
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    public var headers: HTTPHeaders

    public init(method: String, target: String, minorVersion: Int = 1, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
    }

    /// Whether the client wants the connection kept open after this request (RFC 9112 section 9.3).
    public var keepAlive: Bool {
        if headers.hasToken("close", in: "Connection") { return false }
        return minorVersion >= 1 || headers.hasToken("keep-alive", in: "Connection")
    }
}

/// How the body of a request is delimited (RFC 9112 section 6.3).
public enum HTTPBodyFraming: Sendable, Equatable {
    case none
    case length(Int)
    case chunked
}

/// Why a request was refused, with the status to answer and a reason safe to show.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPStatus
    public var reason: String

    public init(_ status: HTTPStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status.code): \(reason)" }
}

/// Size limits the parser and server enforce; each maps to a status when exceeded.
public struct HTTPLimits: Sendable, Equatable {
    /// Longest request line (method, target, version): 414 beyond.
    public var maxRequestLineBytes = 8 * 1024
    /// Most bytes of header fields: 431 beyond.
    public var maxHeaderBytes = 16 * 1024
    /// Most header field lines: 431 beyond.
    public var maxHeaderFields = 100
    /// Largest request body, except multipart uploads: 413 beyond.
    public var maxBodyBytes = 1024 * 1024
    /// Largest `multipart/form-data` body (photo uploads): 413 beyond.
    public var maxUploadBytes = 20 * 1024 * 1024

    public init() {}
}
