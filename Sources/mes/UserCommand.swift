import ArgumentParser
import Config
import Domain
import Foundation
import Postgres
import Services

/// `mes user`: people who sign in to the web app, and the roles they hold.
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add users of the web app (passwords are read from standard input, never from the command line).",
        subcommands: [Add.self]
    )

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user with roles; the password is the first line of standard input, the PIN (with --badge) the second.",
            discussion: """
                Roles: operator, supervisor, quality, manager, admin (repeat --role). A password \
                needs 10 characters or more; a PIN 4 digits or more. Both are stored only as \
                PBKDF2-HMAC-SHA-256 hashes. Example:
                  printf '%s\\n%s\\n' "$PASSWORD" "$PIN" | mes user add ana --name "Ana Ruiz" --role operator --badge 0412
                """
        )
        @OptionGroup var global: GlobalOptions

        @Argument(help: "The user name: lower-case letters, digits and . _ @ -.")
        var username: String

        @Option(help: "The name shown on pages and printed with signatures.")
        var name: String

        @Option(name: .customLong("role"), help: "A role; repeat for several.")
        var roles: [String]

        @Option(help: "The badge number for signing in at a tablet (then a PIN is read too).")
        var badge: String?

        func run() throws {
            guard let password = readLine(strippingNewline: true), !password.isEmpty else {
                throw ValidationError("give the password on the first line of standard input")
            }
            var pin: String?
            if badge != nil {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw ValidationError("--badge needs a PIN on the second line of standard input")
                }
                pin = line
            }
            let configuration = try global.configuration()
            let pool = PGPool(configuration: PGPoolConfiguration(url: try global.databaseURL(configuration), maxConnections: 1))
            defer { pool.close() }
            do {
                try SessionService(pool: pool).addUser(
                    username: username, displayName: name, roles: roles, password: password, badge: badge, pin: pin, by: "cli")
            } catch let error as ProductionRuleError {
                FileHandle.standardError.write(Data("mes user add: \(error.message)\n".utf8))
                throw ExitCode(1)
            }
            print("user \(username) added with \(roles.sorted().joined(separator: ", "))")
        }
    }
}
