import ArgumentParser
import Config
import Domain
import Foundation
import Postgres
import Services

/// `mes token`: API tokens for the REST API.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke tokens for the REST API (/api/v1).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a token and print it (shown this once; only its SHA-256 is stored).",
            discussion: "Scopes: plant:read (orders, WIP, machine states, OEE), orders:write (create, update, release, import work orders), erp:admin (outbox ledger and replay), quality:read (lot traces, recall impact, holds), quality:write (measurements)."
        )
        @OptionGroup var global: GlobalOptions

        @Option(help: "What the token is for, e.g. 'SAP interface'.")
        var name: String

        @Option(name: .customLong("scope"), help: "A scope the token gets; repeat for several.")
        var scopes: [String]

        func run() throws {
            var granted = Set<APIScope>()
            for scope in scopes {
                guard let value = APIScope(rawValue: scope) else {
                    throw ValidationError("--scope: '\(scope)' is not one of \(APIScope.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                granted.insert(value)
            }
            guard !granted.isEmpty else { throw ValidationError("give at least one --scope") }
            let configuration = try global.configuration()
            let pool = PGPool(configuration: PGPoolConfiguration(url: try global.databaseURL(configuration), maxConnections: 1))
            defer { pool.close() }
            let (_, token) = try APITokens.create(name: name, scopes: granted, pool)
            print(token)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens: id, prefix, name, scopes, last use, revoked.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let configuration = try global.configuration()
            let pool = PGPool(configuration: PGPoolConfiguration(url: try global.databaseURL(configuration), maxConnections: 1))
            defer { pool.close() }
            for token in try APITokens.list(pool) {
                let scopes = APIScope.allCases.filter(token.scopes.contains).map(\.rawValue).joined(separator: ",")
                let used = token.lastUsedAt.map { $0.ISO8601Format() } ?? "never"
                print("\(token.id)\tmes_\(token.prefix)_…\t\(token.name)\t\(scopes)\tlast used \(used)\(token.revoked ? "\trevoked" : "")")
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id or prefix; it stops working at once.")
        @OptionGroup var global: GlobalOptions

        @Argument(help: "The token's id or its 8-character prefix.")
        var token: String

        func run() throws {
            let configuration = try global.configuration()
            let pool = PGPool(configuration: PGPoolConfiguration(url: try global.databaseURL(configuration), maxConnections: 1))
            defer { pool.close() }
            guard try APITokens.revoke(token, pool) else {
                FileHandle.standardError.write(Data("mes token revoke: no live token \(token)\n".utf8))
                throw ExitCode(1)
            }
            print("token \(token) revoked")
        }
    }
}

/// `mes import work-orders FILE.csv`.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import work orders from a CSV file: all of them or none.",
        discussion: """
            The first line names the columns: number, part, quantity, site (required), due, \
            planned_start (RFC 3339 or YYYY-MM-DD), reference, priority, release (yes/no). An \
            order that exists and has not started is updated; operations come from the part's \
            routing. Every problem of the file is printed with its line, and nothing is written \
            unless the whole file is good. Prints created, updated and unchanged counts.
            """
    )
    @OptionGroup var global: GlobalOptions

    @Argument(help: "What to import: work-orders.")
    var kind: String

    @Argument(help: "The CSV file.")
    var file: String

    func validate() throws {
        guard kind == "work-orders" else { throw ValidationError("'\(kind)' cannot be imported; only work-orders") }
    }

    func run() throws {
        let configuration = try global.configuration()
        guard let data = FileManager.default.contents(atPath: file) else {
            FileHandle.standardError.write(Data("mes import: \(file): cannot be read\n".utf8))
            throw ExitCode(1)
        }
        let orders: [WorkOrderInput]
        do {
            orders = try WorkOrderCSV.parse(String(decoding: data, as: UTF8.self))
        } catch {
            for problem in error.errors { FileHandle.standardError.write(Data("mes import: \(file):\(problem.line): \(problem.message)\n".utf8)) }
            throw ExitCode(1)
        }
        let pool = PGPool(configuration: PGPoolConfiguration(url: try global.databaseURL(configuration), maxConnections: 1))
        defer { pool.close() }
        do {
            let outcomes = try ProductionService(pool: pool).upsert(all: orders)
            let count = { (outcome: UpsertOutcome) in outcomes.filter { $0 == outcome }.count }
            print("imported \(orders.count) work orders: \(count(.created)) created, \(count(.updated)) updated, \(count(.unchanged)) unchanged")
        } catch let error as ProductionRuleError {
            FileHandle.standardError.write(Data("mes import: \(file): \(error.message); nothing was imported\n".utf8))
            throw ExitCode(1)
        }
    }
}
