import CLibPQ

extension PGConnection {
    /// Bulk-inserts rows with `COPY table (columns) FROM STDIN` in text format, the fastest way
    /// into PostgreSQL. Rows are streamed in chunks of about 64 KiB as `write` appends them.
    ///
    /// ```swift
    /// let count = try connection.copy(into: "measurement", columns: ["characteristic_id", "value"]) { rows in
    ///     for sample in samples { try rows.append(sample.characteristicID, sample.value) }
    /// }
    /// ```
    ///
    /// If `write` throws, the COPY is aborted (nothing is inserted) and the error is rethrown.
    /// - Returns: the number of rows the server stored.
    @discardableResult
    public func copy(into table: String, columns: [String], _ write: (inout PGCopyWriter) throws -> Void) throws -> Int {
        let statement = "COPY \(SQL.quoteIdentifier(table)) (\(columns.map(SQL.quoteIdentifier).joined(separator: ", "))) FROM STDIN"
        let start = PQexec(handle, statement)
        guard let start, PQresultStatus(start) == PGRES_COPY_IN else {
            if let start {
                let error = makeError(result: start, query: statement)
                PQclear(start)
                throw error
            }
            throw PGError(.connectionLost, Self.lastErrorMessage(handle), query: statement)
        }
        PQclear(start)

        var writer = PGCopyWriter(connection: self, columnCount: columns.count)
        do {
            try write(&writer)
            try writer.flush()
        } catch {
            // Abort: the server discards every row of this COPY.
            _ = PQputCopyEnd(handle, "aborted by the client")
            drainResults(query: statement)
            throw error
        }
        guard PQputCopyEnd(handle, nil) == 1 else {
            let message = Self.lastErrorMessage(handle)
            drainResults(query: statement)
            throw PGError(.copyFailed, "cannot finish COPY: \(message)", query: statement)
        }
        var stored = 0
        var failure: PGError?
        while let result = PQgetResult(handle) {
            if PQresultStatus(result) == PGRES_COMMAND_OK {
                stored = Int(String(cString: PQcmdTuples(result))) ?? 0
            } else if failure == nil {
                failure = makeError(result: result, query: statement)
            }
            PQclear(result)
        }
        if let failure { throw failure }
        return stored
    }

    private func drainResults(query: String) {
        while let result = PQgetResult(handle) { PQclear(result) }
    }

    func putCopyData(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { PQputCopyData(handle, $0.baseAddress, Int32($0.count)) }
        }
        guard sent == 1 else {
            throw PGError(.copyFailed, "cannot send COPY data: \(Self.lastErrorMessage(handle))")
        }
    }
}

/// Appends rows to a running COPY in PostgreSQL's text format (tab-separated, `\N` for NULL,
/// backslash escapes for tab, newline, carriage return and backslash; docs section "COPY, File Formats").
public struct PGCopyWriter: ~Copyable {
    private let connection: PGConnection
    private let columnCount: Int
    private var buffer: [UInt8] = []
    private var column = 0
    /// Rows appended so far.
    public private(set) var rowCount = 0

    static let chunkSize = 64 * 1024

    init(connection: PGConnection, columnCount: Int) {
        self.connection = connection
        self.columnCount = columnCount
        buffer.reserveCapacity(Self.chunkSize + 1024)
    }

    /// Appends one row; the values must match the column list in number and order.
    public mutating func append<each T: PGEncodable>(_ values: repeat each T) throws {
        column = 0
        for value in repeat each values {
            if column > 0 { buffer.append(UInt8(ascii: "\t")) }
            appendField(value.pgValue)
            column += 1
        }
        guard column == columnCount else {
            throw PGError(.copyFailed, "row \(rowCount + 1) has \(column) values for \(columnCount) columns")
        }
        buffer.append(UInt8(ascii: "\n"))
        rowCount += 1
        if buffer.count >= Self.chunkSize { try flush() }
    }

    mutating func flush() throws {
        guard !buffer.isEmpty else { return }
        try connection.putCopyData(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    private mutating func appendField(_ value: PGBind.Value) {
        switch value {
        case .null:
            buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
        case .text(let string):
            for byte in string.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\t"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case UInt8(ascii: "\n"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                default: buffer.append(byte)
                }
            }
        case .binary(let bytes):
            // bytea hex input `\x…`, with the backslash itself escaped for COPY.
            buffer.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
            let digits = Array("0123456789abcdef".utf8)
            for byte in bytes {
                buffer.append(digits[Int(byte >> 4)])
                buffer.append(digits[Int(byte & 0x0f)])
            }
        }
    }
}
