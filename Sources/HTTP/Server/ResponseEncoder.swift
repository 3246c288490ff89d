import CLinux
import Markup
import Glibc

/// Turns responses into bytes: status line, headers in a fixed order, and body.
enum ResponseEncoder {
    /// Content types worth compressing.
    static func isCompressible(_ contentType: String?) -> Bool {
        guard let type = contentType?.lowercased() else { return false }
        return type.hasPrefix("text/") || type.hasPrefix("application/json") || type.hasPrefix("application/javascript")
            || type.hasPrefix("image/svg+xml") || type.hasPrefix("application/xml")
    }

    /// Compresses the body with gzip when the client accepts it and it is worth it; sets
    /// `Content-Encoding` and `Vary`.
    static func compressIfUseful(_ response: inout HTTPResponse, request: HTTPRequest) {
        guard case .bytes(let bytes) = response.body, bytes.count >= 860, request.acceptsGzip,
              !response.headers.contains("Content-Encoding"), isCompressible(response.headers["Content-Type"]),
              let compressed = gzip(bytes)
        else { return }
        response.body = .bytes(compressed)
        response.headers.set("Content-Encoding", "gzip")
        response.headers.add("Vary", "Accept-Encoding")
    }

    /// gzip (RFC 1952) of `bytes` through zlib, level 6.
    static func gzip(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8]? {
        var length = 0
        let compressed = bytes.withUnsafeBufferPointer { csys_gzip($0.baseAddress, $0.count, level, &length) }
        guard let compressed else { return nil }
        defer { free(compressed) }
        return Array(UnsafeBufferPointer(start: compressed, count: length))
    }

    /// The status line and headers. `Content-Length` comes from `bodyLength`; with `chunked`
    /// the body is framed by chunks instead; with neither (an event stream, or a stream to an
    /// HTTP/1.0 client) it ends with the connection.
    static func head(_ response: HTTPResponse, bodyLength: Int?, chunked: Bool = false, keepAlive: Bool, date: String, requestID: String?) -> [UInt8] {
        var text = "HTTP/1.1 \(response.status.code) \(response.status.reason)\r\n"
        for field in response.headers where !isFramingHeader(field.name) {
            text += "\(sanitized(field.name)): \(sanitized(field.value))\r\n"
        }
        if let bodyLength, response.status.allowsBody || response.status == .notModified {
            if response.status != .notModified { text += "Content-Length: \(bodyLength)\r\n" }
        }
        if chunked { text += "Transfer-Encoding: chunked\r\n" }
        if let requestID { text += "X-Request-Id: \(requestID)\r\n" }
        text += "Date: \(date)\r\n"
        if !keepAlive { text += "Connection: close\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// The server owns these; a handler's copy would contradict the real framing.
    private static func isFramingHeader(_ name: String) -> Bool {
        HTTPHeaders.equalsIgnoringCase(name, "Content-Length") || HTTPHeaders.equalsIgnoringCase(name, "Transfer-Encoding")
            || HTTPHeaders.equalsIgnoringCase(name, "Connection") || HTTPHeaders.equalsIgnoringCase(name, "Date")
    }

    /// CR and LF in a header would let a value forge further headers (response splitting).
    private static func sanitized(_ text: String) -> String {
        text.contains(where: { $0 == "\r" || $0 == "\n" }) ? String(text.filter { $0 != "\r" && $0 != "\n" }) : text
    }

    /// A small HTML error page that shows the message and the request id, nothing else.
    static func errorPage(_ error: HTTPError, requestID: String) -> HTTPResponse {
        let title = "\(error.status.code) \(Markup.escape(error.status.reason))"
        let page = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><title>\(title)</title></head>
            <body><h1>\(title)</h1><p>\(Markup.escape(error.message))</p><p><small>Request id: \(Markup.escape(requestID))</small></p></body></html>

            """
        var response = HTTPResponse.html(page, status: error.status)
        for field in error.headers { response.headers.add(field.name, field.value) }
        return response
    }
}
