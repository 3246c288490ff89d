import CLibPQ

/// The rows of one statement, owning libpq's `PGresult` and freeing it when released.
///
/// A `PGresult` is read-only once created, and libpq allows reading it from any thread, hence
/// `Sendable`. Cells are decoded on demand straight from libpq's buffers.
public final class PGResult: @unchecked Sendable {
    let handle: OpaquePointer
    /// Column names in order.
    public let columns: [String]
    private let columnIndex: [String: Int]
    /// The number of rows returned.
    public let rowCount: Int
    /// Rows inserted, updated, deleted, copied or selected, from the command tag; 0 if none.
    public let affectedRows: Int

    init(handle: OpaquePointer) {
        self.handle = handle
        let columnCount = Int(PQnfields(handle))
        var columns: [String] = []
        var index: [String: Int] = [:]
        for column in 0..<columnCount {
            let name = String(cString: PQfname(handle, Int32(column)))
            columns.append(name)
            // The first of duplicate names wins, as in SQL's own name resolution for ORDER BY.
            if index[name] == nil { index[name] = column }
        }
        self.columns = columns
        self.columnIndex = index
        self.rowCount = Int(PQntuples(handle))
        self.affectedRows = Int(String(cString: PQcmdTuples(handle))) ?? 0
    }

    deinit { PQclear(handle) }

    /// The position of a column by name.
    public func index(of column: String) -> Int? { columnIndex[column] }

    /// The rows, as a random-access collection.
    public var rows: Rows { Rows(result: self) }

    /// The first row, or nil when there is none.
    public var first: PGRow? { rowCount > 0 ? PGRow(result: self, index: 0) : nil }

    /// Decodes every row into `T`.
    public func decode<T: PGRowDecodable>(_ type: T.Type) throws -> [T] {
        try rows.map { try T(row: $0) }
    }

    /// Decodes every row positionally into a tuple: `try result.decode((Int, String?).self)`.
    public func decode<each T: PGDecodable>(_ types: (repeat each T).Type) throws -> [(repeat each T)] {
        try rows.map { try $0.decode((repeat each T).self) }
    }

    func withCell<R, E: Error>(row: Int, column: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws(E) -> R) throws(E) -> R {
        if PQgetisnull(handle, Int32(row), Int32(column)) == 1 { return try body(nil) }
        let length = Int(PQgetlength(handle, Int32(row), Int32(column)))
        let pointer = UnsafeRawPointer(PQgetvalue(handle, Int32(row), Int32(column))!)
        return try body(UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: UInt8.self), count: length))
    }

    func typeOID(column: Int) -> UInt32 { UInt32(PQftype(handle, Int32(column))) }

    /// The rows of a result.
    public struct Rows: RandomAccessCollection, Sendable {
        let result: PGResult
        public var startIndex: Int { 0 }
        public var endIndex: Int { result.rowCount }
        public subscript(position: Int) -> PGRow { PGRow(result: result, index: position) }
    }
}

/// A type made from one result row, by column name.
public protocol PGRowDecodable {
    init(row: PGRow) throws
}
