/// One row of a `PGResult`. Decoding errors name the column, the row and the expected type.
public struct PGRow: Sendable {
    let result: PGResult
    /// The row's position in its result.
    public let index: Int

    /// Decodes the named column.
    public func decode<T: PGDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let position = result.index(of: column) else {
            throw PGDecodingError(
                column: column, columnIndex: nil, row: index, expectedType: "\(T.self)", typeOID: nil,
                reason: "is not in the result (columns: \(result.columns.joined(separator: ", ")))")
        }
        return try decode(column: position, as: type)
    }

    /// Decodes the column at `position` (0-based).
    public func decode<T: PGDecodable>(column position: Int, as type: T.Type = T.self) throws -> T {
        guard position >= 0, position < result.columns.count else {
            throw PGDecodingError(
                column: "#\(position)", columnIndex: position, row: index, expectedType: "\(T.self)", typeOID: nil,
                reason: "is out of range: the result has \(result.columns.count) columns")
        }
        do {
            return try result.withCell(row: index, column: position) { cell throws(PGCellError) in
                try T.pgDecode(cell)
            }
        } catch {
            throw PGDecodingError(
                column: result.columns[position], columnIndex: position, row: index, expectedType: "\(T.self)",
                typeOID: result.typeOID(column: position), reason: error.reason)
        }
    }

    /// Decodes the first columns, in order, into a tuple: `let (id, name) = try row.decode((Int, String).self)`.
    public func decode<each T: PGDecodable>(_ types: (repeat each T).Type) throws -> (repeat each T) {
        var position = 0
        func next<U: PGDecodable>(_ type: U.Type) throws -> U {
            defer { position += 1 }
            return try decode(column: position, as: type)
        }
        return (repeat try next((each T).self))
    }

    /// True when the named column is SQL NULL.
    public func isNull(_ column: String) -> Bool {
        guard let position = result.index(of: column) else { return true }
        return result.withCell(row: index, column: position) { $0 == nil }
    }
}

/// A cell that could not be read as the requested Swift type.
public struct PGDecodingError: Error, Sendable, CustomStringConvertible {
    /// The column's name as the result reports it.
    public var column: String
    public var columnIndex: Int?
    public var row: Int
    public var expectedType: String
    /// The PostgreSQL type OID of the column, when it exists.
    public var typeOID: UInt32?
    public var reason: String

    public var description: String {
        let type = typeOID.map { " (type OID \($0))" } ?? ""
        return "cannot decode column '\(column)'\(type) of row \(row) as \(expectedType): it \(reason)"
    }
}
