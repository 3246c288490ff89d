/// One part of a `multipart/form-data` body: a form field or an uploaded file.
public struct MultipartPart: Sendable, Equatable {
    /// The form field's name (`Content-Disposition: form-data; name="…"`).
    public var name: String
    /// The uploaded file's name, for file fields.
    public var filename: String?
    /// The part's `Content-Type`, if sent.
    public var contentType: String?
    /// Every header line of the part.
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(name: String, filename: String? = nil, contentType: String? = nil, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8]) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text (form fields), nil if it is not UTF-8.
    public var text: String? { String(validating: body, as: UTF8.self) }
}

/// Bounds on what a multipart body may contain.
public struct MultipartLimits: Sendable, Equatable {
    public var maxParts = 100
    public var maxPartHeaderBytes = 8 * 1024
    public var maxTotalBytes: Int

    public init(maxParts: Int = 100, maxPartHeaderBytes: Int = 8 * 1024, maxTotalBytes: Int) {
        self.maxParts = maxParts
        self.maxPartHeaderBytes = maxPartHeaderBytes
        self.maxTotalBytes = maxTotalBytes
    }
}

/// `multipart/form-data` (RFC 7578), with the boundary syntax of RFC 2046 section 5.1.1.
public enum Multipart {
    /// The `boundary` parameter of a Content-Type (quoted or not), 1 to 70 characters.
    public static func boundary(fromContentType value: String) -> String? {
        let pieces = value.split(separator: ";", maxSplits: 1)
        guard pieces.count == 2 else { return nil }
        guard let boundary = parameters(pieces[1]).first(where: { $0.name == "boundary" })?.value,
              (1...70).contains(boundary.utf8.count), !boundary.hasSuffix(" ")
        else { return nil }
        return boundary
    }

    /// Splits a body into its parts. Preamble and epilogue are ignored.
    public static func parse(body: [UInt8], boundary: String, limits: MultipartLimits) throws(FormError) -> [MultipartPart] {
        guard body.count <= limits.maxTotalBytes else { throw FormError("the upload is larger than \(limits.maxTotalBytes) bytes") }
        let dashBoundary = Array("--\(boundary)".utf8)
        let delimiter = Array("\r\n--\(boundary)".utf8)
        return try body.withUnsafeBufferPointer { bytes throws(FormError) in
            // The first delimiter may open the body or follow a preamble line.
            var index: Int
            if bytes.starts(with: dashBoundary) {
                index = dashBoundary.count
            } else if let found = find(delimiter, in: bytes, from: 0) {
                index = found + delimiter.count
            } else {
                throw FormError("the upload has no boundary line")
            }
            var parts: [MultipartPart] = []
            while true {
                // After a delimiter: "--" closes; otherwise optional padding, then CRLF.
                if index + 1 < bytes.count, bytes[index] == UInt8(ascii: "-"), bytes[index + 1] == UInt8(ascii: "-") {
                    return parts
                }
                while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\r"), bytes[index + 1] == UInt8(ascii: "\n") else {
                    throw FormError("the upload ends without its closing boundary")
                }
                index += 2
                guard parts.count < limits.maxParts else { throw FormError("the upload has more than \(limits.maxParts) parts") }
                let (headers, bodyStart) = try partHeaders(bytes, from: index, limit: limits.maxPartHeaderBytes)
                guard let end = find(delimiter, in: bytes, from: bodyStart) else {
                    throw FormError("the upload ends without its closing boundary")
                }
                parts.append(try makePart(headers: headers, body: Array(bytes[bodyStart..<end])))
                index = end + delimiter.count
            }
        }
    }

    /// Header lines up to the blank line; returns them and where the part's body starts.
    private static func partHeaders(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int) throws(FormError) -> (HTTPHeaders, Int) {
        var headers = HTTPHeaders()
        var index = start
        while true {
            var end = index
            while end + 1 < bytes.count, !(bytes[end] == UInt8(ascii: "\r") && bytes[end + 1] == UInt8(ascii: "\n")) {
                end += 1
                if end - start > limit { throw FormError("a part's headers are larger than \(limit) bytes") }
            }
            guard end + 1 < bytes.count else { throw FormError("the upload ends inside a part's headers") }
            if end == index { return (headers, end + 2) }
            let line = String(decoding: UnsafeBufferPointer(rebasing: bytes[index..<end]), as: UTF8.self)
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  line[..<colon].utf8.allSatisfy(HTTPRequestParser.isTokenByte)
            else {
                throw FormError("a part has a malformed header line")
            }
            headers.add(String(line[..<colon]), String(line[line.index(after: colon)...].trimmingSpaces))
            index = end + 2
        }
    }

    private static func makePart(headers: HTTPHeaders, body: [UInt8]) throws(FormError) -> MultipartPart {
        guard let disposition = headers["Content-Disposition"] else {
            throw FormError("a part has no Content-Disposition")
        }
        let pieces = disposition.split(separator: ";", maxSplits: 1)
        guard pieces.first?.trimmingSpaces.lowercased() == "form-data" else {
            throw FormError("a part is not form-data")
        }
        let parameters = pieces.count == 2 ? parameters(pieces[1]) : []
        guard let name = parameters.first(where: { $0.name == "name" })?.value, !name.isEmpty else {
            throw FormError("a part has no field name")
        }
        return MultipartPart(
            name: name, filename: parameters.first { $0.name == "filename" }?.value,
            contentType: headers["Content-Type"], headers: headers, body: body)
    }

    /// `; key=value; key="quoted \" value"` parameters (RFC 9110 section 5.6.6); names lower-cased.
    static func parameters(_ text: Substring) -> [(name: String, value: String)] {
        var result: [(String, String)] = []
        var index = text.startIndex
        func skipSpaces() {
            while index < text.endIndex, text[index] == " " || text[index] == "\t" || text[index] == ";" { index = text.index(after: index) }
        }
        while true {
            skipSpaces()
            guard index < text.endIndex else { return result }
            let nameStart = index
            while index < text.endIndex, text[index] != "=", text[index] != ";" { index = text.index(after: index) }
            let name = text[nameStart..<index].trimmingSpaces.lowercased()
            guard index < text.endIndex, text[index] == "=" else { continue }
            index = text.index(after: index)
            var value = ""
            if index < text.endIndex, text[index] == "\"" {
                index = text.index(after: index)
                while index < text.endIndex, text[index] != "\"" {
                    if text[index] == "\\", text.index(after: index) < text.endIndex { index = text.index(after: index) }
                    value.append(text[index])
                    index = text.index(after: index)
                }
                if index < text.endIndex { index = text.index(after: index) }
            } else {
                let valueStart = index
                while index < text.endIndex, text[index] != ";" { index = text.index(after: index) }
                value = String(text[valueStart..<index].trimmingSpaces)
            }
            result.append((name, value))
        }
    }

    /// The first position of `needle` in `haystack` at or after `start`.
    static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = 1
                while matched < needle.count, haystack[index + matched] == needle[matched] { matched += 1 }
                if matched == needle.count { return index }
            }
            index += 1
        }
        return nil
    }
}
