/// Why a query string, form, cookie or upload could not be decoded. The reason is short and
/// safe to show: the server answers it as a 400.
public struct FormError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
