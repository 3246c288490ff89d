#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging

/// Applies forward-only migrations, each in its own transaction, and records them with a
/// SHA-256 checksum of the file in `schema_migrations`.
///
/// - A migration already applied whose file has changed since is refused: schema history must
///   not be rewritten; write a new migration instead.
/// - A version recorded in the database but missing from the files (an older build against a
///   newer database) is refused too.
/// - A session advisory lock serialises migrators, so several nodes may start at once.
public struct PGMigrator: Sendable {
    public var migrations: [PGMigration]
    private let logger: Logger

    /// Key of the advisory lock held while migrating (ASCII "mes-migr").
    static let lockKey: Int64 = 0x6D65_732D_6D69_6772

    public init(migrations: [PGMigration], logger: Logger = Logger(label: "mes.migrate")) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Where each migration stands against a database.
    public struct Status: Sendable, Equatable {
        public enum State: Sendable, Equatable {
            case applied(at: Date)
            case pending
        }
        public var migration: PGMigration
        public var state: State
    }

    /// Reports each migration as applied or pending, after checking that applied ones are unchanged.
    public func status(on connection: PGConnection) throws -> [Status] {
        try withLock(on: connection) {
            let applied = try verifiedHistory(on: connection)
            return migrations.map { migration in
                Status(migration: migration, state: applied[migration.version].map { .applied(at: $0) } ?? .pending)
            }
        }
    }

    /// Applies every pending migration in version order; returns those applied (none when the
    /// schema is current). Stops at the first failure, which names the file and line.
    @discardableResult
    public func migrate(on connection: PGConnection) throws -> [PGMigration] {
        try withLock(on: connection) {
            let applied = try verifiedHistory(on: connection)
            var done: [PGMigration] = []
            for migration in migrations where applied[migration.version] == nil {
                let started = ContinuousClock.now
                do {
                    try connection.transaction { connection in
                        try connection.executeScript(unsafeSQL: migration.sql)
                        try connection.execute("""
                            INSERT INTO schema_migrations (version, name, checksum, execution_ms)
                            VALUES (\(migration.version), \(migration.name), \(Self.checksumSQL(migration.sql)),
                                    \(Int((ContinuousClock.now - started) / .milliseconds(1))))
                            """)
                    }
                } catch let error as PGError {
                    throw PGMigrationError(Self.describe(error, in: migration))
                }
                logger.info("applied migration \(migration.fileName)")
                done.append(migration)
            }
            return done
        }
    }

    /// SQL computing the checksum server-side, so no hashing code is needed here and the value
    /// is exactly what `sha256sum` prints for the file.
    private static func checksumSQL(_ text: String) -> SQL {
        "encode(sha256(convert_to(\(text), 'UTF8')), 'hex')"
    }

    private func withLock<T>(on connection: PGConnection, _ body: () throws -> T) throws -> T {
        try connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))") }
        try connection.execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now(),
                execution_ms integer NOT NULL
            )
            """)
        return try body()
    }

    /// Applied versions with their times, after refusing edited or unknown ones.
    private func verifiedHistory(on connection: PGConnection) throws -> [Int: Date] {
        let rows = try connection.query("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")
            .decode((Int, String, String, Date).self)
        let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        var applied: [Int: Date] = [:]
        for (version, name, checksum, appliedAt) in rows {
            guard let migration = byVersion[version] else {
                throw PGMigrationError("""
                    the database has migration \(version) (\(name)) applied at \(appliedAt), but no such file exists here: \
                    this build is older than the database schema
                    """)
            }
            let current = try connection.query("SELECT \(Self.checksumSQL(migration.sql)) AS checksum")
                .rows[0].decode("checksum", as: String.self)
            guard current == checksum else {
                throw PGMigrationError("""
                    \(migration.fileName) was changed after it was applied at \(appliedAt) \
                    (applied checksum \(checksum.prefix(12))…, file now \(current.prefix(12))…). \
                    Migrations are forward-only: restore the file and add a new migration for the change
                    """)
            }
            applied[version] = appliedAt
        }
        return applied
    }

    /// `0003_work_orders.sql, line 12: PostgreSQL error 42P01: relation "part" does not exist`.
    static func describe(_ error: PGError, in migration: PGMigration) -> String {
        var location = migration.fileName
        if let position = error.position, error.query == migration.sql {
            let prefix = migration.sql.prefix(position)
            let line = prefix.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
            location += ", line \(line)"
        }
        return "\(location): \(error); nothing of this migration was applied"
    }
}
