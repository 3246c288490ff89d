/// A SQL statement whose interpolated values become bind parameters.
///
/// ```swift
/// let rows = try connection.query("SELECT id FROM machine WHERE code = \(code) AND line_id = \(lineID)")
/// // sent as: SELECT id FROM machine WHERE code = $1 AND line_id = $2, with two binds
/// ```
///
/// Values never become SQL text, so a statement built this way cannot be injected into.
/// Fragments compose (`\(otherSQL)`), and placeholders are numbered when the statement is
/// rendered. Identifiers that must vary use `\(identifier:)`, which quotes them. The single
/// escape hatch for trusted SQL text is `\(unsafeRaw:)`.
public struct SQL: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    enum Fragment: Sendable {
        case text(String)
        case bind(PGBind)
    }

    var fragments: [Fragment]

    public init(stringLiteral value: String) {
        fragments = value.isEmpty ? [] : [.text(value)]
    }

    public init(stringInterpolation: StringInterpolation) {
        fragments = stringInterpolation.fragments
    }

    /// Trusted SQL text used as is, for statements read from files the operator controls
    /// (migrations). Never pass user input.
    public init(unsafeRaw text: String) {
        fragments = [.text(text)]
    }

    /// The statement with `$1…$n` placeholders and its binds, in order.
    public func render() -> (text: String, binds: [PGBind]) {
        var text = ""
        var binds: [PGBind] = []
        for fragment in fragments {
            switch fragment {
            case .text(let part):
                text += part
            case .bind(let bind):
                binds.append(bind)
                text += "$\(binds.count)"
            }
        }
        return (text, binds)
    }

    /// The statement text with placeholders: safe to log, as it holds no values.
    public var description: String { render().text }

    public struct StringInterpolation: StringInterpolationProtocol, Sendable {
        var fragments: [Fragment] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            fragments.reserveCapacity(interpolationCount * 2 + 1)
        }

        public mutating func appendLiteral(_ literal: String) {
            if !literal.isEmpty { fragments.append(.text(literal)) }
        }

        /// A value, sent as a bind parameter.
        public mutating func appendInterpolation(_ value: some PGEncodable) {
            fragments.append(.bind(value.pgBind))
        }

        /// An optional value: NULL when nil, sent with the wrapped type's OID either way.
        public mutating func appendInterpolation<Value: PGEncodable>(_ value: Value?) {
            fragments.append(.bind(value.pgBind))
        }

        /// Another statement fragment, with its own binds.
        public mutating func appendInterpolation(_ sql: SQL) {
            fragments.append(contentsOf: sql.fragments)
        }

        /// A comma-separated list of binds, for `IN (…)` and `VALUES (…)`.
        public mutating func appendInterpolation(list values: [some PGEncodable]) {
            for (index, value) in values.enumerated() {
                if index > 0 { fragments.append(.text(", ")) }
                fragments.append(.bind(value.pgBind))
            }
        }

        /// A table, column or channel name, double-quoted so it is always read as one identifier.
        public mutating func appendInterpolation(identifier: String) {
            fragments.append(.text(SQL.quoteIdentifier(identifier)))
        }

        /// Trusted SQL text spliced in verbatim. The one escape hatch: never user input.
        public mutating func appendInterpolation(unsafeRaw text: String) {
            fragments.append(.text(text))
        }
    }

    /// Quotes an identifier per PostgreSQL's lexical rules (section 4.1.1): wrap in double quotes,
    /// double any embedded quote. NUL cannot appear in an identifier and is dropped.
    public static func quoteIdentifier(_ name: String) -> String {
        var quoted = "\""
        for scalar in name.unicodeScalars where scalar != "\0" {
            if scalar == "\"" { quoted += "\"\"" } else { quoted.unicodeScalars.append(scalar) }
        }
        return quoted + "\""
    }

    /// Joins fragments with a separator, keeping every bind.
    public static func joined(_ parts: [SQL], separator: String) -> SQL {
        var result = SQL(stringLiteral: "")
        for (index, part) in parts.enumerated() {
            if index > 0 { result.fragments.append(.text(separator)) }
            result.fragments.append(contentsOf: part.fragments)
        }
        return result
    }

    public static func + (lhs: SQL, rhs: SQL) -> SQL {
        var result = lhs
        result.fragments.append(contentsOf: rhs.fragments)
        return result
    }
}
