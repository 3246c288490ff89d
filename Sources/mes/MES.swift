import ArgumentParser

/// The `mes` command: one executable for every role of the Manufacturing Execution System.
@main
struct MES: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mes",
        abstract: "An open-source Manufacturing Execution System.",
        discussion: """
            Settings come from flags, then MES_* environment variables, then defaults; see \
            docs/configuration.md. Run 'mes help <subcommand>' for each subcommand's options.
            """,
        version: "0.1.0",
        subcommands: [MigrateCommand.self, ServeCommand.self, CollectCommand.self, SyncCommand.self, OutboxCommand.self, AuditCommand.self, DemoCommand.self, UserCommand.self, ImportCommand.self, TokenCommand.self, SimulateCommand.self, SPCCommand.self, OEECommand.self, ConfigCommand.self]
    )
}
