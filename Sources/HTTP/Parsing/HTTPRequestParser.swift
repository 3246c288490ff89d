/// A pure HTTP/1.1 request-head parser over bytes, after RFC 9112. It keeps every header line,
/// enforces `HTTPLimits`, and reports each refusal with the status the RFC asks for.
public enum HTTPRequestParser {
    public enum HeadResult: Sendable, Equatable {
        /// A full head, and how many bytes it took (including leading empty lines).
        case complete(HTTPRequestHead, consumed: Int)
        /// More bytes are needed; nothing is wrong so far.
        case incomplete
        case invalid(HTTPParseError)
    }

    /// Parses a head from the start of `bytes`.
    public static func parseHead(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) -> HeadResult {
        bytes.withUnsafeBufferPointer { parseHead($0, limits: limits) }
    }

    public static func parseHead(_ bytes: UnsafeBufferPointer<UInt8>, limits: HTTPLimits) -> HeadResult {
        var index = 0
        // RFC 9112 section 2.2: ignore empty lines received before the request line.
        while index < bytes.count, bytes[index] == cr || bytes[index] == lf {
            if bytes[index] == cr, index + 1 < bytes.count, bytes[index + 1] != lf {
                return .invalid(HTTPParseError(.badRequest, "bare CR before the request line"))
            }
            index += 1
            if index > 64 { return .invalid(HTTPParseError(.badRequest, "too many empty lines before the request line")) }
        }
        let lineStart = index
        guard let lineEnd = findLF(bytes, from: lineStart, limit: limits.maxRequestLineBytes + 2) else {
            if bytes.count - lineStart > limits.maxRequestLineBytes + 1 {
                return .invalid(HTTPParseError(.uriTooLong, "the request line is longer than \(limits.maxRequestLineBytes) bytes"))
            }
            return .incomplete
        }
        let contentEnd = lineEnd > lineStart && bytes[lineEnd - 1] == cr ? lineEnd - 1 : lineEnd
        if contentEnd - lineStart > limits.maxRequestLineBytes {
            return .invalid(HTTPParseError(.uriTooLong, "the request line is longer than \(limits.maxRequestLineBytes) bytes"))
        }
        let requestLine: (method: String, target: String, minor: Int)
        switch parseRequestLine(bytes, lineStart, contentEnd) {
        case .success(let line): requestLine = line
        case .failure(let error): return .invalid(error)
        }

        var headers = HTTPHeaders()
        index = lineEnd + 1
        let headersStart = index
        while true {
            guard let end = findLF(bytes, from: index, limit: limits.maxHeaderBytes - (index - headersStart) + 2) else {
                if bytes.count - headersStart > limits.maxHeaderBytes {
                    return .invalid(HTTPParseError(.requestHeaderFieldsTooLarge, "the header fields are larger than \(limits.maxHeaderBytes) bytes"))
                }
                return .incomplete
            }
            if end - headersStart > limits.maxHeaderBytes {
                return .invalid(HTTPParseError(.requestHeaderFieldsTooLarge, "the header fields are larger than \(limits.maxHeaderBytes) bytes"))
            }
            let fieldEnd = end > index && bytes[end - 1] == cr ? end - 1 : end
            if fieldEnd == index {
                index = end + 1
                break
            }
            if headers.fields.count == limits.maxHeaderFields {
                return .invalid(HTTPParseError(.requestHeaderFieldsTooLarge, "more than \(limits.maxHeaderFields) header fields"))
            }
            switch parseField(bytes, index, fieldEnd) {
            case .success(let field): headers.add(field.name, field.value)
            case .failure(let error): return .invalid(error)
            }
            index = end + 1
        }

        let head = HTTPRequestHead(method: requestLine.method, target: requestLine.target, minorVersion: requestLine.minor, headers: headers)
        // RFC 9112 section 3.2: an HTTP/1.1 request must carry exactly one Host field.
        if head.minorVersion == 1, headers.values("Host").count != 1 {
            return .invalid(HTTPParseError(.badRequest, headers.contains("Host") ? "more than one Host header field" : "the Host header field is missing"))
        }
        return .complete(head, consumed: index)
    }

    /// How the body of `head` is framed, or why it cannot be read (RFC 9112 section 6).
    public static func framing(of head: HTTPRequestHead, limits: HTTPLimits = HTTPLimits()) -> Result<HTTPBodyFraming, HTTPParseError> {
        let transferEncodings = head.headers.values("Transfer-Encoding")
        let contentLengths = head.headers.values("Content-Length")
        let maxBody = isMultipart(head) ? limits.maxUploadBytes : limits.maxBodyBytes
        if !transferEncodings.isEmpty {
            // Section 6.1: both fields together are a smuggling attempt or a broken client.
            if !contentLengths.isEmpty {
                return .failure(HTTPParseError(.badRequest, "both Transfer-Encoding and Content-Length are present"))
            }
            if head.minorVersion == 0 {
                return .failure(HTTPParseError(.badRequest, "Transfer-Encoding is not allowed in an HTTP/1.0 request"))
            }
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces.lowercased() }
            for coding in codings where coding != "chunked" {
                return .failure(HTTPParseError(.notImplemented, "the transfer coding '\(coding.prefix(40))' is not supported"))
            }
            // Section 6.3: chunked must be the final coding, and only once.
            guard codings == ["chunked"] else {
                return .failure(HTTPParseError(.badRequest, "chunked must be the only transfer coding, applied once"))
            }
            return .success(.chunked)
        }
        guard !contentLengths.isEmpty else { return .success(.none) }
        // Section 6.3: a list of identical values is one length; differing values are an error.
        var length: Int?
        for piece in contentLengths.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            let digits = piece.trimmingSpaces
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                return .failure(HTTPParseError(.badRequest, "Content-Length is not a number"))
            }
            guard digits.count <= 18, let value = Int(digits) else {
                return .failure(HTTPParseError(.contentTooLarge, "the body is larger than \(maxBody) bytes"))
            }
            if let length, length != value {
                return .failure(HTTPParseError(.badRequest, "Content-Length values differ"))
            }
            length = value
        }
        guard let length else { return .success(.none) }
        if length > maxBody {
            return .failure(HTTPParseError(.contentTooLarge, "the body is larger than \(maxBody) bytes"))
        }
        return .success(length == 0 ? .none : .length(length))
    }

    static func isMultipart(_ head: HTTPRequestHead) -> Bool {
        head.headers["Content-Type"].map { $0.lowercased().hasPrefix("multipart/form-data") } ?? false
    }

    // MARK: - Pieces

    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")

    private static func findLF(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) -> Int? {
        let end = min(bytes.count, start + max(0, limit))
        var index = start
        while index < end {
            if bytes[index] == lf { return index }
            index += 1
        }
        return nil
    }

    /// `method SP request-target SP HTTP-version` (section 3).
    private static func parseRequestLine(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Result<(method: String, target: String, minor: Int), HTTPParseError> {
        var index = start
        while index < end, isTokenByte(bytes[index]) { index += 1 }
        guard index > start, index < end, bytes[index] == UInt8(ascii: " ") else {
            return .failure(HTTPParseError(.badRequest, "malformed request line"))
        }
        let method = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        index += 1
        let targetStart = index
        while index < end, bytes[index] > 0x20, bytes[index] != 0x7F { index += 1 }
        guard index > targetStart, index < end, bytes[index] == UInt8(ascii: " ") else {
            return .failure(HTTPParseError(.badRequest, "malformed request line"))
        }
        let target = String(decoding: UnsafeBufferPointer(rebasing: bytes[targetStart..<index]), as: UTF8.self)
        index += 1
        let version = Array(bytes[index..<end])
        // HTTP-version = "HTTP/" DIGIT "." DIGIT (section 2.3).
        guard version.count == 8, version.starts(with: Array("HTTP/".utf8)), version[6] == UInt8(ascii: "."),
              isDigit(version[5]), isDigit(version[7])
        else {
            return .failure(HTTPParseError(.badRequest, "malformed HTTP version"))
        }
        guard version[5] == UInt8(ascii: "1"), version[7] <= UInt8(ascii: "1") else {
            return .failure(HTTPParseError(.httpVersionNotSupported, "only HTTP/1.0 and HTTP/1.1 are supported"))
        }
        return .success((method, target, Int(version[7] - UInt8(ascii: "0"))))
    }

    /// `field-name ":" OWS field-value OWS` (section 5).
    private static func parseField(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Result<HTTPHeaders.Field, HTTPParseError> {
        // Section 5.2: obsolete line folding is refused.
        if bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") {
            return .failure(HTTPParseError(.badRequest, "obsolete line folding in header fields"))
        }
        var index = start
        while index < end, isTokenByte(bytes[index]) { index += 1 }
        // Section 5.1: no whitespace between the field name and the colon.
        guard index > start, index < end, bytes[index] == UInt8(ascii: ":") else {
            return .failure(HTTPParseError(.badRequest, "malformed header field"))
        }
        let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        index += 1
        var valueStart = index
        var valueEnd = end
        while valueStart < valueEnd, bytes[valueStart] == UInt8(ascii: " ") || bytes[valueStart] == UInt8(ascii: "\t") { valueStart += 1 }
        while valueEnd > valueStart, bytes[valueEnd - 1] == UInt8(ascii: " ") || bytes[valueEnd - 1] == UInt8(ascii: "\t") { valueEnd -= 1 }
        for position in valueStart..<valueEnd {
            let byte = bytes[position]
            // field-vchar / SP / HTAB; obs-text (0x80-0xFF) is allowed. CR, NUL and other controls are not.
            if byte < 0x20 && byte != UInt8(ascii: "\t") || byte == 0x7F {
                return .failure(HTTPParseError(.badRequest, "invalid character in header field '\(name.prefix(40))'"))
            }
        }
        let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd]), as: UTF8.self)
        return .success(HTTPHeaders.Field(name: name, value: value))
    }

    /// tchar (RFC 9110 section 5.6.2).
    static func isTokenByte(_ byte: UInt8) -> Bool { tokenTable[Int(byte)] }

    private static let tokenTable: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { return true }
        if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") { return true }
        if isDigit(byte) { return true }
        return "!#$%&'*+-.^_`|~".utf8.contains(byte)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
