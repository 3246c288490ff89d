import ArgumentParser
import Config
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Options every subcommand accepts; each overrides its `MES_*` environment variable.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "PostgreSQL URL (env: MES_DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env: MES_LOG_LEVEL).")
    var logLevel: String?

    /// The resolved configuration; a bad setting becomes a validation error naming it.
    func configuration(extraFlags: [String: String] = [:]) throws -> MESConfiguration {
        var flags = extraFlags
        flags["MES_DATABASE_URL"] = databaseURL
        flags["MES_LOG_LEVEL"] = logLevel
        do {
            return try MESConfiguration(environment: processEnvironment(), flags: flags)
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// The database URL, or a usage error (exit code 64) that says how to give one.
    func databaseURL(_ configuration: MESConfiguration) throws -> String {
        do {
            return try configuration.requireDatabaseURL()
        } catch {
            throw ValidationError(error.description)
        }
    }

    /// Sets up swift-log once for the process, writing to standard error.
    func bootstrapLogging(_ configuration: MESConfiguration) -> Logger {
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        return Logger(label: "mes")
    }
}

/// The process environment as a dictionary.
func processEnvironment() -> [String: String] {
    var result: [String: String] = [:]
    var pointer = environ
    while let entry = pointer.pointee {
        let text = String(cString: entry)
        if let equals = text.firstIndex(of: "=") {
            result[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        pointer += 1
    }
    return result
}
