import Foundation
import Postgres

/// Fresh, throwaway databases on the PostgreSQL that scripts/test.sh starts.
///
/// A missing `MES_TEST_DATABASE_URL` is a test failure, not a skip: a suite that quietly skips
/// its database tests would report green without having tested anything.
public enum TestDatabase {
    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "MES_TEST_DATABASE_URL is not set: run scripts/test.sh, which starts PostgreSQL, or point it at a role with CREATEDB"
        }
    }

    public static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["MES_TEST_DATABASE_URL"], !url.isEmpty else {
            throw NotConfigured()
        }
        return url
    }

    /// The URL of `url` with its database name replaced.
    public static func url(_ url: String, database: String) -> String {
        let query = url.firstIndex(of: "?").map { String(url[$0...]) } ?? ""
        let base = url.firstIndex(of: "?").map { String(url[..<$0]) } ?? url
        guard let slash = base.lastIndex(of: "/"), base[..<slash].hasSuffix("/") == false else { return base + "/" + database + query }
        return String(base[..<slash]) + "/" + database + query
    }

    /// Creates an empty database, runs `body` with its URL, and drops it afterwards.
    public static func withFresh<T>(_ body: (String) throws -> T) throws -> T {
        let (admin, name, url) = try create()
        defer { drop(name, using: admin) }
        return try body(url)
    }

    /// The async form, for tests that await pools and listeners.
    public static func withFresh<T>(_ body: (String) async throws -> T) async throws -> T {
        let (admin, name, url) = try create()
        defer { drop(name, using: admin) }
        return try await body(url)
    }

    private static func create() throws -> (admin: PGConnection, name: String, url: String) {
        let server = try serverURL()
        let name = freshName()
        let admin = try PGConnection.connect(url: server, applicationName: "mes-tests")
        try admin.execute("CREATE DATABASE \(identifier: name)")
        return (admin, name, url(server, database: name))
    }

    private static func drop(_ name: String, using admin: PGConnection) {
        _ = try? admin.execute("DROP DATABASE \(identifier: name) WITH (FORCE)")
    }

    public static func freshName() -> String {
        "mes_test_" + UUID().uuidString.lowercased().filter { $0 != "-" }
    }

    /// A connection to a fresh database for the duration of `body`.
    public static func withConnection<T>(_ body: (PGConnection) throws -> T) throws -> T {
        try withFresh { url in try body(try PGConnection.connect(url: url, applicationName: "mes-tests")) }
    }

    /// A fresh database with the product's migrations applied: `body` gets its URL and a
    /// connection to it.
    public static func withMigrated<T>(_ body: (String, PGConnection) throws -> T) throws -> T {
        try withFresh { url in
            let db = try PGConnection.connect(url: url, applicationName: "mes-tests")
            try PGMigrator(migrations: try PGMigration.load(directory: productMigrations)).migrate(on: db)
            return try body(url, db)
        }
    }

    /// The product's `Migrations/` folder.
    public static let productMigrations: String = {
        let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return support.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Migrations").path
    }()
}
