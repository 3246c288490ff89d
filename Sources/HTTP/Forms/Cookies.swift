/// Reading the cookies a browser sends in `Cookie` header fields.
public enum Cookies {
    /// The cookies in every `Cookie` field value, by name.
    ///
    /// Each value is `name=value; name2=value2` (RFC 6265 section 4.2.1, as user agents write
    /// it per section 5.4). Spaces and tabs around names and values are trimmed, one pair of
    /// double quotes around a value is removed, pieces without `=` or with an empty name are
    /// skipped, and the first occurrence of a name wins: section 5.4 step 2 has user agents send
    /// the cookie with the longest path first. Values are returned as sent, not percent-decoded.
    public static func parse(_ headerValues: [String]) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in headerValues {
            // RFC 6265 section 4.2.1: cookie-string = cookie-pair *( ";" SP cookie-pair ).
            for piece in header.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: true) {
                guard let equals = piece.firstIndex(of: UInt8(ascii: "=")) else { continue }
                let name = trimmed(piece[..<equals])
                guard !name.isEmpty else { continue }
                var value = trimmed(piece[piece.index(after: equals)...])
                // RFC 6265 section 4.1.1: cookie-value = *cookie-octet / ( DQUOTE *cookie-octet DQUOTE ).
                if value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") {
                    value = value.dropFirst().dropLast()
                }
                // Cut at ASCII bytes of a String, so each piece is valid UTF-8.
                let key = String(decoding: name, as: UTF8.self)
                if cookies[key] == nil {
                    cookies[key] = String(decoding: value, as: UTF8.self)
                }
            }
        }
        return cookies
    }

    private static func trimmed(_ bytes: Substring.UTF8View) -> Substring.UTF8View {
        let isSpace = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
              let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return bytes[bytes.endIndex...] }
        return bytes[first...last]
    }
}
