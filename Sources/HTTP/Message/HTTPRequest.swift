/// A complete request as handlers see it: head, decoded path, query and body.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    /// The path, percent-decoded, e.g. `/machines/M 01`.
    public var path: String
    /// The decoded path segments (`/a/b%2Fc` gives `["a", "b/c"]`); routing matches these.
    public var pathSegments: [String]
    /// The query string as sent (without `?`), if any.
    public var rawQuery: Substring?
    public var body: [UInt8]
    /// The peer's address, `ip:port`.
    public var remoteAddress: String

    public var method: String { head.method }
    public var headers: HTTPHeaders { head.headers }

    /// Makes a request from a parsed head, refusing a target that is not a valid origin-form
    /// path (RFC 9112 section 3.2.1) or whose percent-escapes do not decode to UTF-8.
    public init(head: HTTPRequestHead, body: [UInt8] = [], remoteAddress: String = "") throws(HTTPError) {
        var target = Substring(head.target)
        // absolute-form (section 3.2.2) is accepted and reduced to its path.
        if target.hasPrefix("http://") || target.hasPrefix("https://") {
            let afterScheme = target[target.index(target.firstIndex(of: ":")!, offsetBy: 3)...]
            target = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        guard target.hasPrefix("/") else {
            throw HTTPError(.badRequest, "the request target must be a path starting with /")
        }
        if let fragment = target.firstIndex(of: "#") { target = target[..<fragment] }
        let rawPath: Substring
        if let question = target.firstIndex(of: "?") {
            rawPath = target[..<question]
            rawQuery = target[target.index(after: question)...]
        } else {
            rawPath = target
            rawQuery = nil
        }
        var segments: [String] = []
        for piece in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            guard let segment = PercentEncoding.decode(piece, plusAsSpace: false), !segment.utf8.contains(0) else {
                throw HTTPError(.badRequest, "the path has a malformed percent-escape")
            }
            segments.append(segment)
        }
        self.head = head
        self.pathSegments = segments
        self.path = "/" + segments.joined(separator: "/") + (rawPath.count > 1 && rawPath.hasSuffix("/") ? "/" : "")
        self.body = body
        self.remoteAddress = remoteAddress
    }

    /// The query parameters; a malformed query is a 400.
    public func query() throws(HTTPError) -> QueryParameters {
        guard let rawQuery else { return QueryParameters(items: []) }
        do {
            return try QueryParameters.parse(rawQuery)
        } catch {
            throw HTTPError(.badRequest, "bad query string: \(error.reason)")
        }
    }

    /// Cookies sent with the request (first value of each name).
    public var cookies: [String: String] { Cookies.parse(headers.values("Cookie")) }

    /// The fields of an `application/x-www-form-urlencoded` body; 415 for another content type,
    /// 400 when malformed.
    public func formParameters() throws(HTTPError) -> QueryParameters {
        guard mediaType == "application/x-www-form-urlencoded" else {
            throw HTTPError(.unsupportedMediaType, "expected a form (application/x-www-form-urlencoded)")
        }
        do {
            return try QueryParameters.parse(formBody: body)
        } catch {
            throw HTTPError(.badRequest, "bad form data: \(error.reason)")
        }
    }

    /// The parts of a `multipart/form-data` body (file uploads); 415 for another content type,
    /// 400 when malformed.
    public func multipartParts(limits: MultipartLimits? = nil) throws(HTTPError) -> [MultipartPart] {
        guard mediaType == "multipart/form-data", let contentType = headers["Content-Type"],
              let boundary = Multipart.boundary(fromContentType: contentType)
        else {
            throw HTTPError(.unsupportedMediaType, "expected an upload (multipart/form-data with a boundary)")
        }
        do {
            return try Multipart.parse(body: body, boundary: boundary, limits: limits ?? MultipartLimits(maxTotalBytes: body.count))
        } catch {
            throw HTTPError(.badRequest, "bad upload: \(error.reason)")
        }
    }

    /// The Content-Type without parameters, lower-cased (`text/html`).
    public var mediaType: String? {
        headers["Content-Type"].map { String($0.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmingSpaces).lowercased() }
    }

    /// Whether the client accepts a gzip-coded response (RFC 9110 section 12.5.3).
    public var acceptsGzip: Bool {
        for value in headers.values("Accept-Encoding") {
            for coding in value.split(separator: ",") {
                let parts = coding.split(separator: ";")
                guard parts.first?.trimmingSpaces.lowercased() == "gzip" else { continue }
                let quality = parts.dropFirst().first { $0.trimmingSpaces.hasPrefix("q=") }
                if let quality, Double(quality.trimmingSpaces.dropFirst(2)) == 0 { return false }
                return true
            }
        }
        return false
    }
}
