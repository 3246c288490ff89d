/// The decoded pairs of a URL query string or an `application/x-www-form-urlencoded` body, in
/// the order sent. A name may repeat (`machine=M1&machine=M2`).
public struct QueryParameters: Sendable, Equatable {
    /// Every pair, in order.
    public var items: [QueryItem]

    /// Makes parameters from pairs already decoded.
    public init(items: [QueryItem]) {
        self.items = items
    }

    /// The first value given for `name`, nil if the name is absent.
    public subscript(name: String) -> String? {
        items.first { $0.name == name }?.value
    }

    /// Every value given for `name`, in order; empty if the name is absent.
    public func all(_ name: String) -> [String] {
        items.compactMap { $0.name == name ? $0.value : nil }
    }

    /// Parses `a=1&b=x+y&c=%C3%A9&flag&&d=`.
    ///
    /// Pairs are split on `&` and empty pairs skipped; a pair is split at its first `=`, and a
    /// pair without `=` has the value ""; `+` is a space and `%XX` escapes are decoded as UTF-8.
    /// Throws, quoting the pair, for a malformed escape or escapes that are not UTF-8.
    public static func parse(_ text: some StringProtocol) throws(FormError) -> QueryParameters {
        var items: [QueryItem] = []
        // WHATWG URL standard, section 5.1 (application/x-www-form-urlencoded parsing):
        // split on "&", skip empty sequences, split each at the first "=", "+" is 0x20,
        // then percent-decode (RFC 3986 section 2.1).
        for pair in text.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: UInt8(ascii: "="))
            let rawName = equals.map { pair[..<$0] } ?? pair[...]
            let rawValue = equals.map { pair[pair.index(after: $0)...] } ?? pair[pair.endIndex...]
            let name = try decode(rawName, pair: pair)
            let value = try decode(rawValue, pair: pair)
            items.append(QueryItem(name: name, value: value))
        }
        return QueryParameters(items: items)
    }

    /// Parses an `application/x-www-form-urlencoded` body, which must be UTF-8 (WHATWG URL
    /// standard, section 5.1; the encoding is always UTF-8).
    public static func parse(formBody: [UInt8]) throws(FormError) -> QueryParameters {
        guard let text = String(validating: formBody, as: UTF8.self) else {
            throw FormError("the form is not UTF-8")
        }
        return try parse(text)
    }

    private static func decode<Bytes: Collection<UInt8>>(_ raw: Bytes, pair: Bytes) throws(FormError) -> String {
        // The pieces were cut at ASCII bytes of valid UTF-8, so they are valid UTF-8 themselves.
        let text = String(decoding: raw, as: UTF8.self)
        guard let bytes = PercentEncoding.decodedBytes(text, plusAsSpace: true) else {
            throw FormError("malformed percent-escape in '\(FormError.excerpt(String(decoding: pair, as: UTF8.self)))'")
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw FormError("percent-escapes in '\(FormError.excerpt(String(decoding: pair, as: UTF8.self)))' are not UTF-8")
        }
        return decoded
    }
}
