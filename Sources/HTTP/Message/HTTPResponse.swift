/// A response: status, headers and a body of bytes or a live event stream.
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// Server-sent events from `hub`, limited to `topics` (nil: every topic).
        case eventStream(SSEHub, topics: Set<String>?)
        /// A body produced on a worker thread and sent with chunked transfer coding.
        case stream(@Sendable (ResponseStreamWriter) throws -> Void)
    }

    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPStatus = .ok, contentType: String, body: [UInt8]) {
        self.init(status: status, headers: ["Content-Type": contentType], body: .bytes(body))
    }

    /// An HTML page, UTF-8.
    public static func html(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/html; charset=utf-8", body: Array(text.utf8))
    }

    /// Plain text, UTF-8.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    /// JSON that the caller has already encoded.
    public static func json(_ bytes: [UInt8], status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: bytes)
    }

    /// A redirect; 303 after a form POST so a reload does not resubmit it.
    public static func redirect(to location: String, status: HTTPStatus = .seeOther) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Location": location], body: .bytes([]))
    }

    /// A stream of server-sent events from `hub` (only `topics`, when given).
    public static func eventStream(_ hub: SSEHub, topics: Set<String>? = nil) -> HTTPResponse {
        HTTPResponse(status: .ok, headers: ["Content-Type": "text/event-stream", "Cache-Control": "no-store"], body: .eventStream(hub, topics: topics))
    }

    /// A body written piece by piece by `produce`, which runs on a worker thread (exports,
    /// long reports). If it throws after the first bytes, the connection is cut so the client
    /// sees an incomplete body rather than a truncated one that looks whole.
    public static func stream(contentType: String, status: HTTPStatus = .ok, _ produce: @escaping @Sendable (ResponseStreamWriter) throws -> Void) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .stream(produce))
    }

    /// The body bytes, empty for an event stream.
    public var bodyBytes: [UInt8] {
        if case .bytes(let bytes) = body { return bytes }
        return []
    }
}
