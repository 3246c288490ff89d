import ArgumentParser
import Config
import Foundation
import JSON
import Postgres
import Services

/// `mes outbox`: the ledger of what the MES told the ERP, and replay of dead entries.
struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Read the ERP outbox ledger, or replay entries that died.",
        subcommands: [List.self, Replay.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the newest outbox entries, one JSON object per line.",
            discussion: """
                Each line: id, key, stream (the work order), kind, state (pending, sent, skipped, \
                dead), attempts, created and sent times, the ERP's answer and the last error \
                (null when there is none), and the payload as sent: the same objects as \
                GET /api/v1/outbox.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only entries in this state: pending, sent, skipped or dead.")
        var state: String?

        @Option(help: "Most entries to print.")
        var limit = 100

        func validate() throws {
            if let state, !["pending", "sent", "skipped", "dead"].contains(state) {
                throw ValidationError("--state: '\(state)' is not pending, sent, skipped or dead")
            }
            guard limit > 0 else { throw ValidationError("--limit must be positive") }
        }

        func run() throws {
            let configuration = try global.configuration()
            let pool = PGPool(configuration: PGPoolConfiguration(url: try global.databaseURL(configuration), maxConnections: 1))
            defer { pool.close() }
            for entry in try Outbox.ledger(state: state, limit: limit, pool) {
                print(String(decoding: entry.json.encoded(), as: UTF8.self))
            }
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put dead entries back in the queue, their attempts reset.",
            discussion: "Use it once the cause is fixed (a missing employee, a closed order reopened in the ERP). Exits 1 if an id is not dead."
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Outbox entry ids (from 'mes outbox list --state dead').")
        var ids: [Int64]

        func run() throws {
            let configuration = try global.configuration()
            let pool = PGPool(configuration: PGPoolConfiguration(url: try global.databaseURL(configuration), maxConnections: 1))
            defer { pool.close() }
            var failed = false
            for id in ids {
                if try Outbox.replay(id: id, pool) {
                    print("outbox entry \(id) is pending again")
                } else {
                    FileHandle.standardError.write(Data("mes outbox replay: entry \(id) does not exist or is not dead\n".utf8))
                    failed = true
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}
