/// Why a message cannot be used. It goes to the dead-letter table with this reason, so
/// nothing is dropped silently.
public struct DeadLetterReason: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
