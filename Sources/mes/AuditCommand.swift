import ArgumentParser
import Config
import Foundation
import Postgres
import Services

/// `mes audit`: check the audit trail's hash chain, or read a record's history.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Verify the hash-chained audit trail, or print the history of one record.",
        subcommands: [Verify.self, History.self],
        defaultSubcommand: Verify.self
    )

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every audit record's hash and check the chain.",
            discussion: """
                Reads the whole trail in order and recomputes each record's SHA-256 from its \
                content and the previous record's hash, on its own (not with the database's \
                function). A record changed afterwards, a record removed, or one slipped in \
                between is reported by number, one line each, and the exit status is 1. \
                On success it prints the number of records and the head: keep that line \
                somewhere else and give it back with --anchor later, and records removed \
                from the end of the trail are found too.
                """
        )

        @OptionGroup var global: GlobalOptions

        @Option(name: .customLong("anchor"), help: ArgumentHelp("A record printed by an earlier verify, as SEQ:HASH (repeatable).", valueName: "seq:hash"))
        var anchors: [String] = []

        func validate() throws {
            for anchor in anchors { _ = try Self.parse(anchor) }
        }

        static func parse(_ anchor: String) throws -> (seq: Int64, hash: String) {
            let parts = anchor.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, let seq = Int64(parts[0]), seq > 0, parts[1].count == 64, parts[1].allSatisfy(\.isHexDigit) else {
                throw ValidationError("--anchor '\(anchor)' is not SEQ:HASH (a record number, a colon and 64 hex digits)")
            }
            return (seq, parts[1].lowercased())
        }

        func run() throws {
            let configuration = try global.configuration()
            let pool = PGPool(configuration: PGPoolConfiguration(url: try global.databaseURL(configuration), maxConnections: 1))
            defer { pool.close() }
            let result = try AuditTrail.verify(pool, anchors: try anchors.map(Self.parse))
            for problem in result.problems {
                FileHandle.standardError.write(Data("mes audit verify: \(problem)\n".utf8))
            }
            let head = result.head.map { "\($0.seq):\($0.hash)" } ?? "none (the trail is empty)"
            if result.intact {
                print("audit trail intact: \(result.checked) records; head \(head)")
            } else {
                print("audit trail TAMPERED: \(result.problems.count) problems in \(result.checked) records; head \(head)")
                throw ExitCode(1)
            }
        }
    }

    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the audit records of one record, oldest first, one JSON object per line.",
            discussion: "Example: mes audit history nonconformance 12"
        )

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The record's table, e.g. nonconformance, quality_hold, work_order_operation, work_instruction.")
        var entity: String

        @Argument(help: "The record's id.")
        var id: String

        func run() throws {
            let configuration = try global.configuration()
            let pool = PGPool(configuration: PGPoolConfiguration(url: try global.databaseURL(configuration), maxConnections: 1))
            defer { pool.close() }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .iso8601
            for record in try AuditTrail.records(entity: entity, id: id, pool) {
                print(String(decoding: try encoder.encode(AuditLine(record)), as: UTF8.self))
            }
        }
    }
}

/// One audit record as `mes audit history` prints it.
private struct AuditLine: Encodable {
    var seq: Int64
    var at: Date
    var actor: String
    var action: String
    var reason: String?
    var before: String?
    var after: String?
    var hash: String

    init(_ r: AuditTrail.Record) {
        (seq, at, actor, action, reason, before, after, hash) = (r.seq, r.at, r.actor, r.action, r.reason, r.before, r.after, r.hash)
    }
}
