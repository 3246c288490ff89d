/// The only error whose text reaches a browser: a status and a message written for the user.
///
/// Throw it from a handler to answer with that status; anything else a handler throws becomes
/// a 500 page that shows only the request id, while the error itself goes to the log.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPStatus
    public var message: String
    /// Extra response headers, e.g. `Allow` on a 405.
    public var headers: HTTPHeaders

    public init(_ status: HTTPStatus, _ message: String? = nil, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.message = message ?? status.reason
        self.headers = headers
    }

    public var description: String { "\(status): \(message)" }
}
