/// How strictly concurrent transactions are kept apart (PostgreSQL docs, section 13.2).
public enum PGIsolationLevel: String, Sendable {
    case readCommitted = "READ COMMITTED"
    case repeatableRead = "REPEATABLE READ"
    case serializable = "SERIALIZABLE"
}

extension PGConnection {
    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    ///
    /// Called inside another transaction, it uses a savepoint instead, so a nested failure rolls
    /// back only the nested work. If `body` swallowed a server error the transaction is already
    /// aborted; that is reported as an error rather than letting COMMIT quietly roll back.
    @discardableResult
    public func transaction<T>(isolation: PGIsolationLevel? = nil, _ body: (PGConnection) throws -> T) throws -> T {
        if transactionStatus == .inTransaction || transactionStatus == .failedTransaction {
            return try savepoint(body)
        }
        if let isolation {
            try execute("BEGIN ISOLATION LEVEL \(unsafeRaw: isolation.rawValue)")
        } else {
            try execute("BEGIN")
        }
        let value: T
        do {
            value = try body(self)
        } catch {
            rollbackQuietly("ROLLBACK")
            throw error
        }
        guard transactionStatus == .inTransaction else {
            rollbackQuietly("ROLLBACK")
            throw PGError(.server, "the transaction was aborted by an earlier error that was caught inside it; rolled back")
        }
        try execute("COMMIT")
        return value
    }

    private func savepoint<T>(_ body: (PGConnection) throws -> T) throws -> T {
        savepointDepth += 1
        defer { savepointDepth -= 1 }
        let name = "mes_savepoint_\(savepointDepth)"
        try execute("SAVEPOINT \(identifier: name)")
        do {
            let value = try body(self)
            try execute("RELEASE SAVEPOINT \(identifier: name)")
            return value
        } catch {
            rollbackQuietly("ROLLBACK TO SAVEPOINT \(SQL.quoteIdentifier(name))")
            throw error
        }
    }

    /// Rolls back, keeping the caller's original error: a failed ROLLBACK on a broken connection
    /// adds nothing the caller can act on, and the pool discards such a connection anyway.
    private func rollbackQuietly(_ statement: String) {
        _ = try? execute(SQL(unsafeRaw: statement))
    }
}
