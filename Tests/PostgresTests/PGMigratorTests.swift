import Foundation
import Postgres
import TestSupport
import Testing

struct PGMigratorTests {
    /// The product's own Migrations folder.
    static let productMigrations: String = {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        return TestDatabase.productMigrations
    }()

    /// A temporary folder holding `files`, removed after `body`.
    private func withFolder<T>(_ files: [String: String], _ body: (String) throws -> T) throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mes-migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in files {
            try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return try body(folder.path)
    }

    @Test func productMigrations_buildThePlantSchemaOnAnEmptyDatabase() throws {
        try TestDatabase.withConnection { connection in
            let migrator = PGMigrator(migrations: try PGMigration.load(directory: Self.productMigrations))
            let applied = try migrator.migrate(on: connection)
            #expect(applied.map(\.version) == Array(1...applied.count))
            let tables = try connection.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").decode((String).self)
            for table in ["site", "area", "line", "machine", "part", "routing", "routing_operation", "work_order",
                          "work_order_operation", "app_user", "role", "user_role", "schema_migrations"] {
                #expect(tables.contains(table), "missing table \(table)")
            }
            // The schema enforces what it promises.
            let zone = try #require(throws: PGError.self) {
                try connection.execute("INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant', 'Mars/Olympus')")
            }
            #expect(zone.message.contains("Mars/Olympus"))
            try connection.execute("INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant', 'Europe/Berlin')")
            let roles = try connection.query("SELECT code FROM role ORDER BY code").decode((String).self)
            #expect(roles == ["admin", "manager", "operator", "quality", "supervisor"])
        }
    }

    @Test func migrate_twice_isANoOpTheSecondTime() throws {
        try TestDatabase.withConnection { connection in
            let migrator = PGMigrator(migrations: try PGMigration.load(directory: Self.productMigrations))
            #expect(try migrator.migrate(on: connection).isEmpty == false)
            #expect(try migrator.migrate(on: connection).isEmpty)
            #expect(try migrator.status(on: connection).allSatisfy { if case .applied = $0.state { true } else { false } })
        }
    }

    @Test func migrate_appliesOnlyWhatIsNew_andStatusShowsPending() throws {
        try TestDatabase.withConnection { connection in
            let first = PGMigration(version: 1, name: "a", fileName: "0001_a.sql", sql: "CREATE TABLE a (n int);")
            let second = PGMigration(version: 2, name: "b", fileName: "0002_b.sql", sql: "CREATE TABLE b (n int);")
            try PGMigrator(migrations: [first]).migrate(on: connection)
            let status = try PGMigrator(migrations: [first, second]).status(on: connection)
            #expect(status.map(\.state.isPending) == [false, true])
            #expect(try PGMigrator(migrations: [first, second]).migrate(on: connection) == [second])
        }
    }

    @Test func editedAppliedMigration_isRefusedNamingTheFile() throws {
        try TestDatabase.withConnection { connection in
            let original = PGMigration(version: 1, name: "a", fileName: "0001_a.sql", sql: "CREATE TABLE a (n int);")
            try PGMigrator(migrations: [original]).migrate(on: connection)
            var edited = original
            edited.sql = "CREATE TABLE a (n bigint);"
            let error = try #require(throws: PGMigrationError.self) { try PGMigrator(migrations: [edited]).migrate(on: connection) }
            #expect(error.message.contains("0001_a.sql was changed after it was applied"))
            #expect(throws: PGMigrationError.self) { try PGMigrator(migrations: [edited]).status(on: connection) }
        }
    }

    @Test func checksum_isWhatSha256sumPrintsForTheFile() throws {
        let text = "CREATE TABLE gauge (id int); -- Prüfmittel\n"
        let expected = try withFolder(["0001_gauge.sql": text]) { folder in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
            process.arguments = [folder + "/0001_gauge.sql"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            process.waitUntilExit()
            let line = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return String(line.prefix(64))
        }
        try TestDatabase.withConnection { connection in
            let migration = PGMigration(version: 1, name: "gauge", fileName: "0001_gauge.sql", sql: text)
            try PGMigrator(migrations: [migration]).migrate(on: connection)
            let checksum = try connection.query("SELECT checksum FROM schema_migrations").rows[0].decode("checksum", as: String.self)
            #expect(checksum == expected)
        }
    }

    @Test func databaseAheadOfTheFiles_isRefused() throws {
        try TestDatabase.withConnection { connection in
            let a = PGMigration(version: 1, name: "a", fileName: "0001_a.sql", sql: "CREATE TABLE a (n int);")
            let b = PGMigration(version: 2, name: "b", fileName: "0002_b.sql", sql: "CREATE TABLE b (n int);")
            try PGMigrator(migrations: [a, b]).migrate(on: connection)
            let error = try #require(throws: PGMigrationError.self) { try PGMigrator(migrations: [a]).migrate(on: connection) }
            #expect(error.message.contains("migration 2 (b)"))
        }
    }

    @Test func failingMigration_isRolledBackWhole_andNamesFileAndLine() throws {
        try TestDatabase.withConnection { connection in
            let good = PGMigration(version: 1, name: "a", fileName: "0001_a.sql", sql: "CREATE TABLE a (n int);")
            let bad = PGMigration(version: 2, name: "b", fileName: "0002_b.sql", sql: """
                CREATE TABLE b (n int);
                INSERT INTO b VALUES (1);
                INSERT INTO missing_table VALUES (1);
                """)
            let error = try #require(throws: PGMigrationError.self) { try PGMigrator(migrations: [good, bad]).migrate(on: connection) }
            #expect(error.message.contains("0002_b.sql, line 3"))
            #expect(error.message.contains("missing_table"))
            let tables = try connection.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").decode((String).self)
            #expect(tables == ["a", "schema_migrations"])
            #expect(try connection.query("SELECT version FROM schema_migrations").decode((Int).self) == [1])
        }
    }

    @Test func concurrentMigrators_applyEachMigrationOnce() async throws {
        try await TestDatabase.withFresh { url in
            let migrations = try PGMigration.load(directory: Self.productMigrations)
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 1))
                        defer { pool.close() }
                        return try await pool.withConnection { try PGMigrator(migrations: migrations).migrate(on: $0).count }
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(results.sorted() == [0, 0, migrations.count])
        }
    }

    @Test(arguments: [
        ("1_short.sql", "at least four digits"),
        ("0001-dash.sql", "NNNN_name.sql"),
        ("0001_Upper.sql", "lower-case"),
        ("abcd_name.sql", "at least four digits"),
    ])
    func load_refusesBadFileNames(name: String, message: String) throws {
        try withFolder([name: "SELECT 1;"]) { folder in
            let error = try #require(throws: PGMigrationError.self) { try PGMigration.load(directory: folder) }
            #expect(error.message.contains(name))
            #expect(error.message.contains(message))
        }
    }

    @Test func load_refusesDuplicateVersionsAndEmptyFiles_andIgnoresOtherFiles() throws {
        try withFolder(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"]) { folder in
            let error = try #require(throws: PGMigrationError.self) { try PGMigration.load(directory: folder) }
            #expect(error.message.contains("version 1 is also used"))
        }
        try withFolder(["0001_a.sql": "  \n"]) { folder in
            let error = try #require(throws: PGMigrationError.self) { try PGMigration.load(directory: folder) }
            #expect(error.message.contains("0001_a.sql: is empty"))
        }
        try withFolder(["0002_b.sql": "SELECT 2;", "0001_a.sql": "SELECT 1;", "README.md": "notes"]) { folder in
            let names = try PGMigration.load(directory: folder).map(\.fileName)
            #expect(names == ["0001_a.sql", "0002_b.sql"])
        }
    }

    @Test func load_missingFolder_saysSo() {
        let error = #expect(throws: PGMigrationError.self) { try PGMigration.load(directory: "/nonexistent/migrations") }
        #expect(error?.message.contains("/nonexistent/migrations") == true)
    }
}

extension PGMigrator.Status.State {
    var isPending: Bool { self == .pending }
}
