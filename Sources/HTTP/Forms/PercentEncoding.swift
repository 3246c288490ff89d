/// Percent-decoding of URL components and form fields, done on UTF-8 bytes.
public enum PercentEncoding {
    /// Decodes `%XX` escapes in `text`.
    ///
    /// With `plusAsSpace`, `+` decodes to a space, as `application/x-www-form-urlencoded` requires
    /// (WHATWG URL standard, section 5.1); elsewhere `+` is an ordinary character.
    /// Returns nil when a `%` is not followed by two hex digits, or when the decoded bytes are
    /// not valid UTF-8.
    public static func decode(_ text: some StringProtocol, plusAsSpace: Bool) -> String? {
        guard let bytes = decodedBytes(text, plusAsSpace: plusAsSpace) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// The bytes `text` decodes to, not yet checked to be UTF-8; nil for a malformed escape.
    static func decodedBytes(_ text: some StringProtocol, plusAsSpace: Bool) -> [UInt8]? {
        let utf8 = text.utf8
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = utf8.startIndex
        while index != utf8.endIndex {
            let byte = utf8[index]
            index = utf8.index(after: index)
            if byte == UInt8(ascii: "%") {
                // RFC 3986 section 2.1: pct-encoded = "%" HEXDIG HEXDIG.
                guard index != utf8.endIndex, let high = hexValue(utf8[index]) else { return nil }
                index = utf8.index(after: index)
                guard index != utf8.endIndex, let low = hexValue(utf8[index]) else { return nil }
                index = utf8.index(after: index)
                bytes.append(high << 4 | low)
            } else if plusAsSpace, byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return bytes
    }

    /// The value of one hex digit (RFC 3986 section 2.1: either case), nil for any other byte.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
