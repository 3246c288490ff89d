/// Bad input to an offline analysis, with a message that says what and where
/// (`runs.csv:7: 'n/a' is not a number`).
public struct AnalysisError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
