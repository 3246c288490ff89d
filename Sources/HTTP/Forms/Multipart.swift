/// Decoding of `multipart/form-data` bodies (RFC 7578), whose framing is the multipart syntax
/// of RFC 2046 section 5.1.1.
public enum Multipart {
    /// The `boundary` parameter of a `Content-Type` value such as
    /// `multipart/form-data; boundary="----abc"`: quoted or not, 1 to 70 boundary characters,
    /// not ending in a space. Nil when it is missing, invalid, or the value is malformed.
    public static func boundary(fromContentType value: String) -> String? {
        guard let (_, parameters) = splitParameters(value),
              let boundary = parameters.first(where: { $0.name == "boundary" })?.value,
              isValidBoundary(boundary)
        else { return nil }
        return boundary
    }

    /// Splits a `multipart/form-data` body into its parts.
    ///
    /// The preamble before the first boundary line and the epilogue after the closing one are
    /// ignored. Every part needs `Content-Disposition: form-data; name="…"`. Throws a
    /// ``FormError`` for a body larger than `limits.maxTotalBytes`, more than `limits.maxParts`
    /// parts, part headers over `limits.maxPartHeaderBytes`, a malformed or non-UTF-8 header
    /// line, a part without Content-Disposition or name, or a body that ends before its
    /// closing boundary line.
    public static func parse(body: [UInt8], boundary: String, limits: MultipartLimits) throws(FormError) -> [MultipartPart] {
        guard body.count <= limits.maxTotalBytes else {
            throw FormError("the upload is larger than \(limits.maxTotalBytes) bytes")
        }
        guard isValidBoundary(boundary) else { throw FormError("the upload's boundary is not valid") }
        // RFC 2046 section 5.1.1: dash-boundary = "--" boundary; delimiter = CRLF dash-boundary.
        let dashBoundary = Array("--\(boundary)".utf8)
        let delimiter = [cr, lf] + dashBoundary
        return try body.withUnsafeBufferPointer { bytes throws(FormError) -> [MultipartPart] in
            // RFC 2046 section 5.1.1: multipart-body = [preamble CRLF] dash-boundary ...; so the
            // first boundary line either opens the body or follows a CRLF.
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
                // index is just past a boundary. RFC 2046 section 5.1.1:
                // close-delimiter = delimiter "--"; otherwise transport-padding CRLF follows.
                if bytes.count - index >= 2, bytes[index] == dash, bytes[index + 1] == dash {
                    return parts
                }
                while index < bytes.count, bytes[index] == space || bytes[index] == tab { index += 1 }
                guard bytes.count - index >= 2 else {
                    throw FormError("the upload ends without its closing boundary")
                }
                guard bytes[index] == cr, bytes[index + 1] == lf else {
                    throw FormError("a boundary line has unexpected text after it")
                }
                index += 2
                guard parts.count < limits.maxParts else {
                    throw FormError("the upload has more than \(limits.maxParts) parts")
                }
                let (headers, bodyStart) = try readHeaders(bytes, from: index, limit: limits.maxPartHeaderBytes)
                var part = try makePart(headers: headers)
                // RFC 2046 section 5.1.1: body-part = MIME-part-headers [CRLF *OCTET]. The
                // delimiter's CRLF may be the blank line itself when the optional part is left
                // out, hence the search from the blank line.
                guard let end = find(delimiter, in: bytes, from: bodyStart - 2) else {
                    throw FormError("the upload ends without its closing boundary")
                }
                if end > bodyStart {
                    part.body = Array(bytes[bodyStart..<end])
                }
                parts.append(part)
                index = end + delimiter.count
            }
        }
    }

    // MARK: - Part headers

    /// Reads header lines from `start` up to and including the blank line; returns them and
    /// where the part's content starts.
    private static func readHeaders(
        _ bytes: UnsafeBufferPointer<UInt8>, from start: Int, limit: Int
    ) throws(FormError) -> ([MultipartPart.Header], Int) {
        // Only look as far as the limit allows (the block plus its blank line).
        let searchEnd = bytes.count - start > limit + 2 ? start + limit + 2 : bytes.count
        var headers: [MultipartPart.Header] = []
        var lineStart = start
        while true {
            var lineFeed = lineStart
            while lineFeed < searchEnd, bytes[lineFeed] != lf { lineFeed += 1 }
            guard lineFeed < searchEnd else {
                if searchEnd < bytes.count {
                    throw FormError("a part's headers are larger than \(limit) bytes")
                }
                throw FormError("the upload ends inside a part's headers")
            }
            // RFC 2046 section 5.1.1 / RFC 5322 section 2.2: header lines end in CRLF.
            guard lineFeed > lineStart, bytes[lineFeed - 1] == cr else {
                throw FormError("a part has a malformed header line")
            }
            let lineEnd = lineFeed - 1
            if lineEnd == lineStart { return (headers, lineFeed + 1) }
            guard lineFeed + 1 - start <= limit else {
                throw FormError("a part's headers are larger than \(limit) bytes")
            }
            headers.append(try header(UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd])))
            lineStart = lineFeed + 1
        }
    }

    /// One `name: value` line without its CRLF.
    private static func header(_ line: UnsafeBufferPointer<UInt8>) throws(FormError) -> MultipartPart.Header {
        // RFC 9110 section 5.1 / RFC 9112 section 5: field-name = token, directly followed by
        // ":"; field-value surrounded by optional whitespace. A line starting with whitespace
        // is obsolete line folding (RFC 9112 section 5.2), not accepted here.
        var colon = 0
        while colon < line.count, isTokenByte(line[colon]) { colon += 1 }
        guard colon > 0, colon < line.count, line[colon] == UInt8(ascii: ":") else {
            throw FormError("a part has a malformed header line")
        }
        var valueStart = colon + 1
        var valueEnd = line.count
        while valueStart < valueEnd, line[valueStart] == space || line[valueStart] == tab { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == space || line[valueEnd - 1] == tab { valueEnd -= 1 }
        let rawValue = UnsafeBufferPointer(rebasing: line[valueStart..<valueEnd])
        // RFC 9110 section 5.5: field values hold no control characters but HTAB.
        guard !rawValue.contains(where: { ($0 < 0x20 && $0 != tab) || $0 == 0x7F }) else {
            throw FormError("a part has a malformed header line")
        }
        // RFC 7578 section 5.1.3: non-ASCII in header values (a file name) is sent as UTF-8.
        guard let value = String(validating: rawValue, as: UTF8.self) else {
            throw FormError("a part has a header that is not UTF-8")
        }
        return MultipartPart.Header(name: String(decoding: UnsafeBufferPointer(rebasing: line[..<colon]), as: UTF8.self), value: value)
    }

    /// The part described by `headers`, still without its body.
    private static func makePart(headers: [MultipartPart.Header]) throws(FormError) -> MultipartPart {
        // RFC 7578 section 4.2: each part MUST have a Content-Disposition of type "form-data"
        // with a "name" parameter; "filename" is optional.
        guard let disposition = headers.first(where: { equalsIgnoringASCIICase($0.name, "Content-Disposition") })?.value else {
            throw FormError("a part has no Content-Disposition")
        }
        guard let (type, parameters) = splitParameters(disposition) else {
            throw FormError("a part has a malformed Content-Disposition")
        }
        guard equalsIgnoringASCIICase(type, "form-data") else { throw FormError("a part is not form-data") }
        guard let name = parameters.first(where: { $0.name == "name" })?.value, !name.isEmpty else {
            throw FormError("a part has no field name")
        }
        return MultipartPart(
            name: name,
            filename: parameters.first { $0.name == "filename" }?.value,
            contentType: headers.first { equalsIgnoringASCIICase($0.name, "Content-Type") }?.value,
            headers: headers,
            body: [])
    }

    // MARK: - Field values with parameters

    /// Splits `type; name=value; name2="quoted \" value"` into the leading value and its
    /// parameters (RFC 9110 section 5.6.6), parameter names lower-cased (they are
    /// case-insensitive); nil when malformed.
    static func splitParameters(_ text: String) -> (String, [(name: String, value: String)])? {
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count, bytes[index] != semicolon { index += 1 }
        let lead = trimmedString(bytes[..<index])
        var parameters: [(name: String, value: String)] = []
        // parameters = *( OWS ";" OWS [ parameter ] ); index is at a ";" or the end.
        while index < bytes.count {
            index += 1
            while index < bytes.count, bytes[index] == space || bytes[index] == tab { index += 1 }
            guard index < bytes.count, bytes[index] != semicolon else { continue }
            // parameter = parameter-name "=" parameter-value; parameter-name = token.
            let nameStart = index
            while index < bytes.count, isTokenByte(bytes[index]) { index += 1 }
            guard index > nameStart, index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return nil }
            let name = String(decoding: bytes[nameStart..<index].map(asciiLowercased), as: UTF8.self)
            index += 1
            // parameter-value = ( token / quoted-string )
            var value: [UInt8] = []
            if index < bytes.count, bytes[index] == quote {
                // RFC 9110 section 5.6.4: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE.
                index += 1
                while true {
                    guard index < bytes.count else { return nil }
                    var byte = bytes[index]
                    index += 1
                    if byte == quote { break }
                    if byte == backslash {
                        guard index < bytes.count else { return nil }
                        byte = bytes[index]
                        index += 1
                    }
                    guard byte >= 0x20 || byte == tab, byte != 0x7F else { return nil }
                    value.append(byte)
                }
            } else {
                let valueStart = index
                while index < bytes.count, isTokenByte(bytes[index]) { index += 1 }
                guard index > valueStart else { return nil }
                value = Array(bytes[valueStart..<index])
            }
            while index < bytes.count, bytes[index] == space || bytes[index] == tab { index += 1 }
            guard index == bytes.count || bytes[index] == semicolon else { return nil }
            // Escapes only ever drop a backslash before a byte, so UTF-8 stays valid.
            parameters.append((name, String(decoding: value, as: UTF8.self)))
        }
        return (lead, parameters)
    }

    /// RFC 2046 section 5.1.1: boundary := 0*69<bchars> bcharsnospace, where
    /// bchars := bcharsnospace / " " and bcharsnospace := DIGIT / ALPHA / ' ( ) + _ , - . / : = ?;
    /// RFC 7578 section 4.1 requires a boundary of at least one character.
    static func isValidBoundary(_ boundary: String) -> Bool {
        let utf8 = boundary.utf8
        guard (1...70).contains(utf8.count), utf8.last != space else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                true
            default:
                "'()+_,-./:=? ".utf8.contains(byte)
            }
        }
    }

    // MARK: - Bytes

    /// The first position of `needle` (not empty) in `haystack` at or after `start`: a scan
    /// for its first byte, then a comparison of the rest.
    static func find(_ needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let first = needle.first, start >= 0, haystack.count - needle.count >= start else { return nil }
        let last = haystack.count - needle.count
        var index = start
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

    /// Whether two field names are equal ignoring ASCII case (RFC 9110 section 5.1).
    static func equalsIgnoringASCIICase(_ left: String, _ right: String) -> Bool {
        left.utf8.count == right.utf8.count && left.utf8.elementsEqual(right.utf8) { asciiLowercased($0) == asciiLowercased($1) }
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    // RFC 9110 section 5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
    // "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private static func trimmedString(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        while let first = slice.first, first == space || first == tab { slice = slice.dropFirst() }
        while let last = slice.last, last == space || last == tab { slice = slice.dropLast() }
        return String(decoding: slice, as: UTF8.self)
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let dash = UInt8(ascii: "-")
    private static let space = UInt8(ascii: " ")
    private static let tab = UInt8(ascii: "\t")
    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let semicolon = UInt8(ascii: ";")
}
