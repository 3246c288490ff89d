import ArgumentParser
import Glibc
import Config
import HTTP
import Logging
import Postgres
import Services
import Metrics
import Prometheus
import Templating
import Web

/// `mes serve`: the web server: the pages, the REST API, static files, the live event stream,
/// and the health and readiness checks.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the web server until SIGTERM or SIGINT, then drain gracefully.",
        discussion: """
            Serves the web app's pages (docs/web.md), static files from Public/ under \
            /static/, server-sent events under /events and, with a database, the REST API \
            under /api/v1 (docs/api.md). Every NOTIFY on the channel mes_events is published \
            to the event stream (the last hop of the live path). /healthz answers while the \
            process runs; /readyz answers 200 only when the database answers and every \
            migration is applied, else 503 with the reasons (/health is the older name of a \
            database check). On SIGTERM or SIGINT it stops accepting connections, lets \
            requests in flight finish, ends event streams with a final 'shutdown' event, and \
            exits within the grace period. With an ERP configured (MES_ERP_URL) it also runs \
            the ERP jobs of 'mes sync' unless --no-sync, and with a broker (MES_MQTT_URL) the \
            collector of 'mes collect' unless --no-collect.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("http-address"), help: "host:port to listen on (env: MES_HTTP_ADDRESS; default 127.0.0.1:8080).")
    var httpAddress: String?

    @Option(name: .customLong("public"), help: "Folder of static files (env: MES_PUBLIC_DIR; default: ./Public, then next to the executable).")
    var publicDirectory: String?

    @Option(name: .customLong("templates"), help: "Folder of page templates (env: MES_TEMPLATES_DIR; default: ./Templates, then next to the executable).")
    var templatesDirectory: String?

    @Flag(help: "Do not run the ERP jobs (pull and outbox) in this process, e.g. when 'mes sync' runs them elsewhere.")
    var noSync = false

    @Flag(help: "Do not run the MQTT collector in this process, e.g. when 'mes collect' runs elsewhere.")
    var noCollect = false

    @Option(help: "Seconds to drain on shutdown before closing what is left.")
    var gracePeriod: Double = 10

    func run() throws {
        TerminationSignals.block()
        ProcessMemory.limitArenas()
        var flags: [String: String] = [:]
        flags["MES_HTTP_ADDRESS"] = httpAddress
        flags["MES_PUBLIC_DIR"] = publicDirectory
        flags["MES_TEMPLATES_DIR"] = templatesDirectory
        let configuration = try global.configuration(extraFlags: flags)
        let logger = global.bootstrapLogging(configuration)

        let registry = PrometheusExposition.bootstrap()
        let hub = SSEHub(replayCapacity: 4096)
        let pool = configuration.databaseURL.map { PGPool(configuration: PGPoolConfiguration(url: $0, maxConnections: configuration.databasePoolSize)) }
        let listener = configuration.databaseURL.map { PGListener(url: $0, channels: ["mes_events"], logger: logger) }
        if let listener { Self.relay(listener, to: hub) }
        let jobs = noSync ? nil : pool.flatMap { SyncCommand.jobs(configuration, pool: $0, logger: logger) }
        jobs?.start()
        // The collector beside the web server when a broker is configured (as `mes collect` with its defaults).
        var collector: CollectorSession?
        if !noCollect, let broker = configuration.mqtt, let databaseURL = configuration.databaseURL {
            collector = try CollectorSession.start(configuration: configuration, databaseURL: databaseURL, broker: broker, logger: logger, options: .init())
            print("mes serve: collecting from \(broker) as \(configuration.collectorID)")
        }

        var router = Router()
        try router.get("/health") { _, _ in
            guard let pool else { return .text("ok (no database configured)\n") }
            do {
                try pool.withConnection { try $0.execute("SELECT 1") }
                return .text("ok\n")
            } catch {
                throw HTTPError(.serviceUnavailable, "The database is not reachable.")
            }
        }
        // Liveness: the process answers. Readiness: it can do its work (a load balancer sends
        // traffic only then; Kubernetes and the Dockerfile's HEALTHCHECK ask these).
        try router.get("/healthz", execution: .loop) { _, _ in .text("ok\n") }
        // Prometheus: requests and their durations, open event streams, and the collector's
        // messages, batches and dead letters (counted as they happen); the database pool, the
        // ERP outbox and the dead letters stored (read at each scrape).
        let poolOpen = registry.makeGauge(name: "mes_db_pool_connections", labels: [("state", "open")])
        let poolIdle = registry.makeGauge(name: "mes_db_pool_connections", labels: [("state", "idle")])
        let poolWaiting = registry.makeGauge(name: "mes_db_pool_waiting")
        let outbox = ["pending", "dead"].map { registry.makeGauge(name: "mes_erp_outbox_entries", labels: [("state", $0)]) }
        let failedAttempts = registry.makeGauge(name: "mes_erp_failed_attempts_last_hour")
        let deadLetters = registry.makeGauge(name: "mes_mqtt_dead_letters")
        let events = registry.makeGauge(name: "mes_mqtt_machine_events_last_minute")
        try router.get("/metrics") { _, _ in
            if let pool {
                let statistics = pool.statistics
                poolOpen.set(Double(statistics.open))
                poolIdle.set(Double(statistics.idle))
                poolWaiting.set(Double(statistics.waiting))
                let figures = try pool.withConnection { db in
                    try db.query("""
                        SELECT (SELECT count(*) FROM erp_outbox WHERE state = 'pending')::float8, (SELECT count(*) FROM erp_outbox WHERE state = 'dead')::float8,
                               (SELECT count(*) FROM erp_outbox_attempt WHERE outcome <> 'sent' AND finished_at > now() - interval '1 hour')::float8,
                               (SELECT count(*) FROM dead_letter)::float8,
                               (SELECT count(*) FROM machine_event WHERE occurred_at > now() - interval '1 minute')::float8
                        """).decode((Double, Double, Double, Double, Double).self)[0]
                }
                outbox[0].set(figures.0)
                outbox[1].set(figures.1)
                failedAttempts.set(figures.2)
                deadLetters.set(figures.3)
                events.set(figures.4)
            }
            return PrometheusExposition.response(registry)
        }
        let migrations = try? PGMigration.load(directory: try locateFolder(
            "Migrations", configured: configuration.migrationsDirectory, setting: "MES_MIGRATIONS_DIR", flag: "--migrations"))
        try router.get("/readyz") { _, _ in
            var problems: [String] = []
            if let pool {
                do {
                    try pool.withConnection { db in
                        try db.execute("SELECT 1")
                        if let migrations {
                            let pending = try PGMigrator(migrations: migrations).status(on: db).filter { $0.state == .pending }
                            if !pending.isEmpty { problems.append("\(pending.count) migrations are pending: run mes migrate") }
                        }
                    }
                } catch {
                    problems.append("the database is not reachable or its schema cannot be read: \(error)")
                }
            } else {
                problems.append("no database is configured (MES_DATABASE_URL)")
            }
            return problems.isEmpty ? .text("ready\n") : .text(problems.joined(separator: "\n") + "\n", status: .serviceUnavailable)
        }
        if let pool {
            try APIv1(pool: pool, production: ProductionService(pool: pool), plant: PlantReadService(pool: pool), logger: logger)
                .register(on: &router)
        }
        if let pool {
            let templates = try TemplateLibrary(
                directory: try locateFolder("Templates", configured: configuration.templatesDirectory, setting: "MES_TEMPLATES_DIR", flag: "--templates"))
            try WebApp(pool: pool, templates: templates, secureCookies: configuration.cookieSecure, liveEvents: hub, logger: logger)
                .register(on: &router)
        }
        let folder = try locateFolder("Public", configured: configuration.publicDirectory, setting: "MES_PUBLIC_DIR", flag: "--public")
        let files = try StaticFiles(root: folder)
        try router.get("/static/*file", execution: .loop, files.handler(parameter: "file"))
        try router.get("/events", execution: .loop) { request, _ in
            .eventStream(hub, topics: try request.query()["topic"].map { Set([$0]) })
        }

        let server = HTTPServer(
            configuration: HTTPServerConfiguration(host: configuration.httpAddress.host, port: configuration.httpAddress.port),
            router: router, logger: logger)
        try server.start()
        print("mes serve: listening on http://\(configuration.httpAddress.host):\(server.port)")
        fflush(nil)
        let signal = TerminationSignals.wait()
        logger.info("received signal \(signal); draining for up to \(gracePeriod) s")
        server.shutdown(gracePeriod: gracePeriod)
        _ = collector?.stop()
        jobs?.stop()
        listener?.stop()
        pool?.close()
    }

    /// Publishes every notification on the hub: the last hop of MQTT → database → browser.
    private static func relay(_ listener: PGListener, to hub: SSEHub) {
        Task.detached {
            var connectedBefore = false
            for await event in listener.events {
                switch event {
                case .notification(let notification):
                    hub.publish(event: "update", data: notification.payload)
                case .reconnected:
                    // Updates may have been missed while the listener was away: screens reload.
                    if connectedBefore { hub.publish(event: "reload", data: "") }
                    connectedBefore = true
                }
            }
        }
    }
}
