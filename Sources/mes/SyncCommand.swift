import ArgumentParser
import Config
import Foundation
import HTTP
import Logging
import Postgres
import Services
import Tryton
import Webhooks

/// `mes sync`: the ERP jobs on their own.
struct SyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Pull orders and master data from the ERP and push the outbox to it.",
        discussion: """
            Pulls work centers, parts, employees, bills of materials, routings and open \
            production orders from Tryton (MES_ERP_URL and friends) every --pull-interval \
            seconds, by last-modified cursor with an overlap window; one node pulls at a time. \
            Sends the outbox (operation cycles, labor, scrap, completions written with the floor \
            events) in order per work order, exactly once, retrying with backoff; entries that \
            fail 8 times wait as dead until 'mes outbox replay'. With --once: one pull and one \
            pass over what is due, a JSON summary on stdout, exit 1 if the pull failed. \
            'mes serve' runs the same jobs unless --no-sync. With MES_WEBHOOK_URL instead of \
            an ERP, the outbox is POSTed there, signed with HMAC-SHA-256 (docs/api.md). See \
            docs/erp.md.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Run one pull and one pass over the outbox, print a summary and exit.")
    var once = false

    @Flag(help: "Only push the outbox; do not pull from the ERP.")
    var noPull = false

    @Option(help: "Seconds between pulls (env: MES_ERP_PULL_INTERVAL; default 60).")
    var pullInterval: Double?

    @Option(help: "Seconds between passes over an empty outbox (env: MES_ERP_PUSH_INTERVAL; default 2).")
    var pushInterval: Double?

    func run() throws {
        var flags: [String: String] = [:]
        flags["MES_ERP_PULL_INTERVAL"] = pullInterval.map { String($0) }
        flags["MES_ERP_PUSH_INTERVAL"] = pushInterval.map { String($0) }
        let configuration = try global.configuration(extraFlags: flags)
        let logger = global.bootstrapLogging(configuration)
        let url = try global.databaseURL(configuration)
        guard configuration.erp != nil || configuration.webhookURL != nil else {
            throw ValidationError(
                "MES_ERP_URL: no ERP configured; set MES_ERP_URL, MES_ERP_DATABASE, MES_ERP_USER, MES_ERP_PASSWORD and MES_ERP_SITE, or MES_WEBHOOK_URL and MES_WEBHOOK_SECRET")
        }
        // One connection per push thread, one for the pull.
        let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: configuration.erpPushConcurrency + 1))
        defer { pool.close() }
        guard let jobs = SyncCommand.jobs(configuration, pool: pool, pull: !noPull, logger: logger) else { return }
        if once {
            let turn: ERPSyncJobs.Turn
            do {
                turn = try jobs.runOnce()
            } catch {
                FileHandle.standardError.write(Data("mes sync: \(error)\n".utf8))
                throw ExitCode(1)
            }
            print(SyncCommand.summary(turn))
            return
        }
        TerminationSignals.block()
        jobs.start()
        logger.info("mes sync: running against \(configuration.erp?.description ?? "")")
        let signal = TerminationSignals.wait()
        logger.info("received signal \(signal); stopping the ERP jobs")
        jobs.stop()
    }

    /// The ERP jobs for this configuration: Tryton (pull and push), or a webhook (push only);
    /// nil when neither is configured.
    static func jobs(_ configuration: MESConfiguration, pool: PGPool, pull: Bool = true, logger: Logger) -> ERPSyncJobs? {
        let node = configuration.node ?? ProcessInfo.processInfo.hostName
        if let url = configuration.webhookURL.flatMap(URL.init(string:)), let secret = configuration.webhookSecret {
            return ERPSyncJobs(
                pull: nil, dispatcher: OutboxDispatcher(pool: pool, connector: WebhookConnector(url: url, secret: secret), node: node),
                pullInterval: configuration.erpPullInterval, pushInterval: configuration.erpPushInterval,
                pushConcurrency: configuration.erpPushConcurrency, logger: logger)
        }
        guard let erp = configuration.erp else { return nil }
        let connector = TrytonConnector(
            settings: TrytonSettings(url: erp.url, database: erp.database, user: erp.user, password: erp.password))
        return ERPSyncJobs(
            pull: pull ? ERPPull(pool: pool, source: connector, site: erp.site, node: node) : nil,
            dispatcher: OutboxDispatcher(pool: pool, connector: connector, node: node),
            pullInterval: configuration.erpPullInterval, pushInterval: configuration.erpPushInterval,
                pushConcurrency: configuration.erpPushConcurrency, logger: logger)
    }

    static func summary(_ turn: ERPSyncJobs.Turn) -> String {
        var object: [String: Any] = [:]
        if let pull = turn.pull {
            var counts: [String: Any] = [:]
            for (entity, c) in pull.counts {
                counts[entity] = ["created": c.created, "updated": c.updated, "unchanged": c.unchanged, "skipped": c.skipped]
            }
            object["pull"] = ["ran": pull.ran, "counts": counts, "problems": pull.problems]
        }
        if let push = turn.push {
            object["push"] = ["sent": push.sent, "skipped": push.skipped, "retried": push.retried, "dead": push.dead]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
