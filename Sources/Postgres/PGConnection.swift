import CLibPQ
import Glibc

/// One PostgreSQL connection over libpq. Every call blocks its thread until the server answers.
///
/// Not `Sendable`: a libpq connection must be used by one thread at a time. Get one from a
/// `PGPool` lease (`withConnection`), which runs the work on threads of its own, never on Swift's
/// cooperative pool. Closed when the last reference goes (`deinit`).
public final class PGConnection {
    let handle: OpaquePointer
    var savepointDepth = 0

    /// Opens a connection.
    ///
    /// - Parameters:
    ///   - url: a `postgresql://user:password@host:port/database` URL or a libpq `key=value`
    ///     string; an empty string uses libpq's `PG*` environment variables.
    ///   - applicationName: shown in `pg_stat_activity`; a value in `url` wins.
    ///   - connectTimeout: seconds to wait for the server.
    public static func connect(url: String, applicationName: String = "mes", connectTimeout: Int = 10) throws -> PGConnection {
        // Defaults first: with expand_dbname, values in the URL override keywords given before it.
        // Sessions run in UTC so timestamps in text output and date arithmetic never depend on
        // the server's time zone; site time zones are applied explicitly in queries.
        let keywords = ["application_name", "client_encoding", "connect_timeout", "options", "dbname"]
        let values = [applicationName, "UTF8", String(connectTimeout), "-c TimeZone=UTC", url]
        let handle: OpaquePointer? = withCStrings(keywords) { keywordPointers in
            withCStrings(values) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let handle else {
            throw PGError(.connectionFailed, "libpq could not allocate a connection")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = lastErrorMessage(handle)
            PQfinish(handle)
            throw PGError(.connectionFailed, "cannot connect to \(PGURL.redacted(url)): \(message)")
        }
        // Server NOTICEs (e.g. "table does not exist, skipping") would go to stderr by default.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        return PGConnection(handle: handle)
    }

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit { PQfinish(handle) }

    /// Whether the connection is still open as far as libpq knows.
    public var isOpen: Bool { PQstatus(handle) == CONNECTION_OK }

    /// The server's process id for this session.
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// The server version as an integer, e.g. 150018 for 15.18.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    /// Where the session stands with respect to transactions.
    public var transactionStatus: PGTransactionStatus {
        switch PQtransactionStatus(handle) {
        case PQTRANS_IDLE: .idle
        case PQTRANS_INTRANS: .inTransaction
        case PQTRANS_INERROR: .failedTransaction
        case PQTRANS_ACTIVE: .active
        default: .unknown
        }
    }

    /// Runs one statement and returns its rows.
    @discardableResult
    public func query(_ sql: SQL) throws -> PGResult {
        let (text, binds) = sql.render()
        guard binds.count <= Int(UInt16.max) else {
            throw PGError(.server, "a statement can have at most 65535 parameters, this one has \(binds.count)", query: text)
        }
        var types: [Oid] = []
        var values: [UnsafePointer<CChar>?] = []
        var lengths: [Int32] = []
        var formats: [Int32] = []
        types.reserveCapacity(binds.count)
        values.reserveCapacity(binds.count)
        var owned: [UnsafeMutableRawPointer] = []
        defer { owned.forEach { free($0) } }
        for (position, bind) in binds.enumerated() {
            types.append(Oid(bind.typeOID))
            switch bind.value {
            case .null:
                values.append(nil)
                lengths.append(0)
                formats.append(0)
            case .text(let string):
                // PostgreSQL text cannot hold NUL; strdup would silently cut the value short.
                guard !string.utf8.contains(0) else {
                    throw PGError(.server, "parameter $\(position + 1) contains a NUL byte, which PostgreSQL text cannot store", query: text)
                }
                let copy = strdup(string)!
                owned.append(copy)
                values.append(UnsafePointer(copy))
                lengths.append(0)
                formats.append(0)
            case .binary(let bytes):
                let copy = malloc(max(bytes.count, 1))!
                bytes.withUnsafeBytes { source in
                    if let base = source.baseAddress { copy.copyMemory(from: base, byteCount: bytes.count) }
                }
                owned.append(copy)
                values.append(UnsafePointer(copy.assumingMemoryBound(to: CChar.self)))
                lengths.append(Int32(bytes.count))
                formats.append(1)
            }
        }
        let result = PQexecParams(handle, text, Int32(binds.count), types, values, lengths, formats, 0)
        return try checked(result, query: text)
    }

    /// Runs one statement and returns how many rows it touched.
    @discardableResult
    public func execute(_ sql: SQL) throws -> Int {
        try query(sql).affectedRows
    }

    /// Runs a script of one or more statements with the simple query protocol (no parameters).
    /// For trusted files such as migrations; never for text that contains user input.
    public func executeScript(unsafeSQL script: String) throws {
        _ = try checked(PQexec(handle, script), query: script)
    }

    /// Turns a libpq result into a `PGResult` or throws the server's error.
    func checked(_ result: OpaquePointer?, query: String) throws -> PGResult {
        guard let result else {
            throw PGError(isOpen ? .unexpectedResult : .connectionLost, Self.lastErrorMessage(handle), query: query)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_IN:
            return PGResult(handle: result)
        default:
            let error = makeError(result: result, query: query)
            PQclear(result)
            throw error
        }
    }

    func makeError(result: OpaquePointer, query: String?) -> PGError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        let message = field("M") ?? Self.lastErrorMessage(handle)
        // No SQLSTATE means libpq itself failed, typically because the connection broke.
        let code: PGError.Code = sqlState != nil ? .server : (isOpen ? .unexpectedResult : .connectionLost)
        return PGError(
            code, message, sqlState: sqlState, detail: field("D"), hint: field("H"), constraint: field("n"),
            table: field("t"), column: field("c"), position: field("P").flatMap { Int($0) }, query: query)
    }

    static func lastErrorMessage(_ handle: OpaquePointer) -> String {
        guard let message = PQerrorMessage(handle) else { return "unknown libpq error" }
        var text = String(cString: message)
        while text.last?.isWhitespace == true { text.removeLast() }
        return text.isEmpty ? "unknown libpq error" : text
    }
}

/// The transaction state of a session (libpq's `PQtransactionStatus`).
public enum PGTransactionStatus: Sendable, Equatable {
    case idle
    case inTransaction
    /// Inside a transaction that failed: only ROLLBACK is accepted.
    case failedTransaction
    /// A command is in progress.
    case active
    /// The connection is bad.
    case unknown
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    let pointers: [UnsafePointer<CChar>?] = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}
