/// One decoded `name=value` pair of a query string or form body.
public struct QueryItem: Sendable, Equatable {
    /// The decoded name.
    public var name: String
    /// The decoded value; "" for a pair without `=`.
    public var value: String

    /// Makes a pair.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}
