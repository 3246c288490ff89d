import ArgumentParser
import Config
import Logging
import Postgres


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
        let directory = try locateFolder("Migrations", configured: configuration.migrationsDirectory, setting: "MES_MIGRATIONS_DIR", flag: "--migrations")
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
}
