import ArgumentParser
import Config
import Logging
import Postgres

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `mes migrate`: brings the database schema up to date.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply pending database migrations, or show their status.",
        discussion: """
            Applies every Migrations/NNNN_name.sql not yet recorded in schema_migrations, in \
            order, each in its own transaction, and records its SHA-256 checksum. A migration \
            that was edited after it was applied is refused: migrations are forward-only. \
            Several processes may run this at once; they take turns on an advisory lock.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("migrations"), help: "Folder of NNNN_name.sql files (env: MES_MIGRATIONS_DIR; default: ./Migrations, then next to the executable).")
    var migrationsDirectory: String?

    @Flag(help: "List each migration as applied or pending, and change nothing.")
    var status = false

    func run() throws {
        var flags: [String: String] = [:]
        flags["MES_MIGRATIONS_DIR"] = migrationsDirectory
        let configuration = try global.configuration(extraFlags: flags)
        let logger = global.bootstrapLogging(configuration)
        let url = try global.databaseURL(configuration)
        let directory = try Self.locateMigrations(configured: configuration.migrationsDirectory)
        let migrator = PGMigrator(migrations: try PGMigration.load(directory: directory), logger: logger)
        let connection = try PGConnection.connect(url: url, applicationName: "mes-migrate")

        if status {
            for entry in try migrator.status(on: connection) {
                switch entry.state {
                case .applied(let at): print("applied  \(entry.migration.fileName)  \(at)")
                case .pending: print("pending  \(entry.migration.fileName)")
                }
            }
            return
        }
        let applied = try migrator.migrate(on: connection)
        if applied.isEmpty {
            print("schema is up to date (\(migrator.migrations.count) migrations)")
        } else {
            print("applied \(applied.map(\.fileName).joined(separator: ", ")); schema is up to date")
        }
    }

    /// The configured folder, else `./Migrations`, else one installed beside the executable
    /// (`../share/mes/Migrations` or `Migrations`).
    static func locateMigrations(configured: String?) throws -> String {
        if let configured { return configured }
        var candidates = ["Migrations"]
        if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let folder = String(executable[..<(executable.lastIndex(of: "/") ?? executable.endIndex)])
            candidates += ["\(folder)/../share/mes/Migrations", "\(folder)/Migrations"]
        }
        var isDirectory = false
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) && isDirectory {
            return candidate
        }
        throw ValidationError("no Migrations folder found (looked in \(candidates.joined(separator: ", "))): pass --migrations or set MES_MIGRATIONS_DIR")
    }
}
