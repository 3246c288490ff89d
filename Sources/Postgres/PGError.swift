/// An error from the PostgreSQL layer: a failed connection, a statement the server rejected,
/// an exhausted pool or a broken COPY.
///
/// Server errors carry every field of PostgreSQL's ErrorResponse that an operator needs
/// (SQLSTATE, message, detail, hint, constraint, table, column). `query` holds the SQL text with
/// `$n` placeholders, never the bound values. These details belong in logs and on the command
/// line; the web layer shows users only its own `HTTPError`.
public struct PGError: Error, Sendable {
    /// What kind of failure this is. Compare with the static members: `error.code == .server`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The connection could not be opened (refused, bad credentials, unknown database).
        public static let connectionFailed = Code("connectionFailed")
        /// An open connection broke (server restart, network failure).
        public static let connectionLost = Code("connectionLost")
        /// The server rejected a statement; see `sqlState`.
        public static let server = Code("server")
        /// No pooled connection became free before the acquire timeout.
        public static let poolTimeout = Code("poolTimeout")
        /// The pool was closed.
        public static let poolClosed = Code("poolClosed")
        /// A COPY could not be started, fed or finished.
        public static let copyFailed = Code("copyFailed")
        /// libpq answered in a way this layer does not expect (a bug, not bad input).
        public static let unexpectedResult = Code("unexpectedResult")

        public var description: String { name }
    }

    public var code: Code
    /// The primary, human-readable message.
    public var message: String
    /// The five-character SQLSTATE, for server errors (e.g. `23505` unique violation).
    public var sqlState: String?
    public var detail: String?
    public var hint: String?
    public var constraint: String?
    public var table: String?
    public var column: String?
    /// 1-based character offset of the error in `query`, when the server reports one.
    public var position: Int?
    /// The statement text with `$n` placeholders (never bound values).
    public var query: String?

    public init(
        _ code: Code, _ message: String, sqlState: String? = nil, detail: String? = nil, hint: String? = nil,
        constraint: String? = nil, table: String? = nil, column: String? = nil, position: Int? = nil,
        query: String? = nil
    ) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
        self.table = table
        self.column = column
        self.position = position
        self.query = query
    }
}

extension PGError {
    /// SQLSTATE 23505: a unique constraint or index refused a duplicate.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// SQLSTATE 23503: a foreign key refused a missing or still-referenced row.
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// SQLSTATE 23514: a CHECK constraint refused a value.
    public var isCheckViolation: Bool { sqlState == "23514" }
    /// SQLSTATE 23502: NULL in a NOT NULL column.
    public var isNotNullViolation: Bool { sqlState == "23502" }
    /// SQLSTATE 40001 or 40P01: the transaction lost a serialization race or a deadlock and may be
    /// retried as a whole.
    public var isRetryableTransactionFailure: Bool { sqlState == "40001" || sqlState == "40P01" }
}

extension PGError: CustomStringConvertible {
    /// One line for logs and the command line: `ERROR 23505: duplicate key … (detail: …)`.
    public var description: String {
        var text: String
        if let sqlState {
            text = "PostgreSQL error \(sqlState): \(message)"
        } else {
            text = "PostgreSQL \(code): \(message)"
        }
        if let detail { text += " (detail: \(detail))" }
        if let hint { text += " (hint: \(hint))" }
        if let constraint { text += " [constraint \(constraint)]" }
        return text
    }
}
