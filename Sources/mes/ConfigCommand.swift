import ArgumentParser
import Config
import Postgres

/// `mes config`: prints the settings a process would run with, secrets masked.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check the configuration and print the effective settings (passwords masked).",
        discussion: "Exits non-zero, naming the setting, when a flag or MES_* variable cannot be used."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let configuration = try global.configuration()
        print("MES_DATABASE_URL        \(configuration.databaseURL.map(PGURL.redacted) ?? "(not set)")")
        print("MES_DATABASE_POOL_SIZE  \(configuration.databasePoolSize)")
        print("MES_MIGRATIONS_DIR      \(configuration.migrationsDirectory ?? "(search ./Migrations, then beside the executable)")")
        print("MES_PUBLIC_DIR          \(configuration.publicDirectory ?? "(search ./Public, then beside the executable)")")
        print("MES_TEMPLATES_DIR       \(configuration.templatesDirectory ?? "(search ./Templates, then beside the executable)")")
        print("MES_COOKIE_SECURE       \(configuration.cookieSecure)")
        print("MES_MQTT_URL            \(configuration.mqtt?.description ?? "(not set)")")
        print("MES_MQTT_CA_FILE        \(configuration.mqttCAFile ?? "(not set)")")
        print("MES_COLLECTOR_ID        \(configuration.collectorID)")
        print("MES_COLLECTOR_SHARE     \(configuration.collectorShare ?? "(not set: one collector takes every message)")")
        print("MES_SPOOL_DIR           \(configuration.spoolDirectory)")
        print("MES_UNKNOWN_MACHINES    \(configuration.unknownMachines)")
        print("MES_HTTP_ADDRESS        \(configuration.httpAddress)")
        print("MES_ERP_URL             \(configuration.erp?.description ?? "(not set: no ERP jobs)")")
        print("MES_WEBHOOK_URL         \(configuration.webhookURL ?? "(not set)")\(configuration.webhookSecret == nil ? "" : ", secret ***")")
        print("MES_ERP_PULL_INTERVAL   \(configuration.erpPullInterval) s")
        print("MES_ERP_PUSH_INTERVAL   \(configuration.erpPushInterval) s")
        print("MES_NODE                \(configuration.node ?? "(the host name)")")
        print("MES_LOG_LEVEL           \(configuration.logLevel)")
    }
}
