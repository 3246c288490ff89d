import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// HTTP requests that block the calling thread, for jobs that already run on their own thread
/// (the ERP connectors, webhooks). `http://` goes over our own kept-alive sockets
/// (`PlainHTTPConnections`), `https://` through URLSession.
public final class BlockingHTTPClient: Sendable {
    private let session: URLSession
    private let plain = PlainHTTPConnections()
    private let timeout: Double

    public init(timeout: Double) {
        self.timeout = timeout
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout * 2
        configuration.httpMaximumConnectionsPerHost = 4
        session = URLSession(configuration: configuration)
    }

    deinit { session.finishTasksAndInvalidate() }

    public struct Response: Sendable {
        public var status: Int
        /// The answer's header fields in order (names as sent).
        public var headers: [(name: String, value: String)] = []
        public var body: Data

        public init(status: Int, headers: [(name: String, value: String)] = [], body: Data) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// Every value of the field `name` (any case).
        public func values(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
        }
    }

    /// The request could not be made or got no HTTP answer (refused, timed out, TLS).
    public struct TransportError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public func send(_ request: URLRequest) throws(TransportError) -> Response {
        if request.url?.scheme?.lowercased() == "http" { return try plain.send(request, timeout: request.timeoutInterval > 0 ? request.timeoutInterval : timeout) }
        final class Box: @unchecked Sendable {
            var data: Data?
            var response: URLResponse?
            var error: (any Error)?
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        session.dataTask(with: request) { data, response, error in
            box.data = data
            box.response = response
            box.error = error
            done.signal()
        }.resume()
        done.wait()  // the semaphore orders the task's writes before these reads
        let target = request.url?.absoluteString ?? "the server"
        if let error = box.error { throw TransportError(description: "\(target): \(error.localizedDescription)") }
        guard let response = box.response as? HTTPURLResponse else { throw TransportError(description: "\(target) answered without an HTTP response") }
        let fields = response.allHeaderFields.compactMap { key, value -> (name: String, value: String)? in
            guard let name = key as? String, let value = value as? String else { return nil }
            return (name, value)
        }
        return Response(status: response.statusCode, headers: fields, body: box.data ?? Data())
    }

    /// The start of a body, for error messages and ledgers.
    public static func excerpt(_ data: Data, limit: Int = 200) -> String {
        let text = String(decoding: data.prefix(limit), as: UTF8.self)
        return data.count > limit ? text + "…" : text
    }
}
