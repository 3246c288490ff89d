/// One `name=value` pair of a query string or form.
public struct QueryItem: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// The pairs of a query string or `application/x-www-form-urlencoded` body, in order;
/// names may repeat (`machine=M1&machine=M2`).
public struct QueryParameters: Sendable, Equatable {
    public var items: [QueryItem]

    public init(items: [QueryItem]) { self.items = items }

    /// The first value of `name`.
    public subscript(name: String) -> String? { items.first { $0.name == name }?.value }

    /// Every value of `name`, in order.
    public func all(_ name: String) -> [String] { items.filter { $0.name == name }.map(\.value) }

    /// Parses `a=1&b=x+y&c=%C3%A9&flag`: pairs split on `&`, empty pairs skipped, a name
    /// without `=` has the value "", `+` is a space. A bad escape throws, naming the pair.
    public static func parse<S: StringProtocol>(_ text: S) throws(FormError) -> QueryParameters {
        var items: [QueryItem] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: "=")
            let rawName = equals.map { pair[..<$0] } ?? pair[...]
            let rawValue = equals.map { pair[pair.index(after: $0)...] } ?? ""
            guard let name = PercentEncoding.decode(rawName, plusAsSpace: true),
                  let value = PercentEncoding.decode(rawValue, plusAsSpace: true)
            else {
                throw FormError("malformed percent-escape in '\(pair.prefix(40))'")
            }
            items.append(QueryItem(name: name, value: value))
        }
        return QueryParameters(items: items)
    }

    /// Parses a form body; it must be UTF-8.
    public static func parse(formBody: [UInt8]) throws(FormError) -> QueryParameters {
        guard let text = String(validating: formBody, as: UTF8.self) else { throw FormError("the form is not UTF-8") }
        return try parse(text)
    }
}
