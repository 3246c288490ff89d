import ArgumentParser
import Collector
import Config
import Foundation
import HTTP
import Logging
import MQTT
import Postgres
import Services
import Workers

/// `mes collect`: the MQTT collector, from broker to database.
struct CollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Collect machine data from MQTT into the database until SIGTERM or SIGINT.",
        discussion: """
            Subscribes with QoS 1 on a persistent session (the broker keeps messages while the \
            collector is down) to the JSON dialect's topics mes/<site>/<area>/<line>/<machine>/<kind>, \
            and writes them in batches, one transaction each, through the machine-data service: \
            raw events, state intervals, part counts, alarms, machine status, and a NOTIFY on \
            mes_events after each batch. Messages that cannot be read go to the dead_letter table \
            with the reason. While PostgreSQL is away, batches wait in the spool folder and are \
            written once it is back. Several collectors may split the load with --share. With \
            --sparkplug-host it is also a Sparkplug B host application on a second, clean MQTT \
            session with its STATE will. On SIGTERM or SIGINT it stops receiving, writes or spools \
            what it holds, and exits. With --metrics-address it serves Prometheus metrics: messages \
            received, stored, duplicated and dead-lettered, batch sizes and write times, failed \
            writes and spooled batches. See docs/mqtt.md.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(name: .customLong("mqtt-url"), help: "Broker, mqtt://user:password@host:port (env: MES_MQTT_URL).")
    var mqttURL: String?

    @Option(name: .customLong("client-id"), help: "MQTT client id naming the persistent session (env: MES_COLLECTOR_ID; default mes-collector).")
    var clientID: String?

    @Option(help: "MQTT v5 shared-subscription group to split the load among collectors (env: MES_COLLECTOR_SHARE).")
    var share: String?

    @Option(help: "Folder for batches waiting for the database (env: MES_SPOOL_DIR; default ./spool).")
    var spool: String?

    @Option(help: "Also act as the Sparkplug B primary host with this host id (subscribes to spBv1.0/#, publishes STATE).")
    var sparkplugHost: String?

    @Option(help: "JSON file mapping Sparkplug groups, devices and metrics to sites, machines and meanings (docs/mqtt.md).")
    var sparkplugMapping: String?

    @Option(help: "Milliseconds a gap in an edge node's seq may wait for the missing message before a rebirth is asked (Sparkplug's Reorder Timeout; 0: at once).")
    var sparkplugReorderTimeout: Int64 = 2_000

    @Option(help: "Most messages per database transaction.")
    var batchSize: Int = 5_000

    @Option(help: "Seconds a message may wait for its batch to fill.")
    var batchDelay: Double = 0.02

    @Option(name: .customLong("metrics-address"), help: "host:port to serve Prometheus metrics on (/metrics, and /healthz); off by default.")
    var metricsAddress: String?

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard batchDelay > 0 else { throw ValidationError("--batch-delay must be positive") }
        guard sparkplugReorderTimeout >= 0 else { throw ValidationError("--sparkplug-reorder-timeout must be 0 or more") }
        if let metricsAddress {
            do { _ = try HostPort(metricsAddress, setting: "--metrics-address") } catch { throw ValidationError("\(error)") }
        }
    }

    func run() throws {
        TerminationSignals.block()
        ProcessMemory.limitArenas()
        var flags: [String: String] = [:]
        flags["MES_MQTT_URL"] = mqttURL
        flags["MES_COLLECTOR_ID"] = clientID
        flags["MES_COLLECTOR_SHARE"] = share
        flags["MES_SPOOL_DIR"] = spool
        let configuration = try global.configuration(extraFlags: flags)
        let logger = global.bootstrapLogging(configuration)
        let databaseURL = try global.databaseURL(configuration)
        guard let broker = configuration.mqtt else {
            throw ValidationError("MES_MQTT_URL: no broker given: pass --mqtt-url or set MES_MQTT_URL, e.g. mqtt://127.0.0.1:1883")
        }

        // Before the collector exists: its counters bind to the metrics system when made.
        let registry = metricsAddress.map { _ in PrometheusExposition.bootstrap() }
        let session = try CollectorSession.start(
            configuration: configuration, databaseURL: databaseURL, broker: broker, logger: logger,
            options: .init(batchSize: batchSize, batchDelay: batchDelay, sparkplugHost: sparkplugHost, sparkplugMapping: sparkplugMapping,
                           sparkplugReorderTimeout: sparkplugReorderTimeout))
        print("mes collect: subscribed to \(session.filter) on \(broker) as \(configuration.collectorID)")
        var metricsServer: HTTPServer?
        if let registry, let metricsAddress {
            let address = try HostPort(metricsAddress, setting: "--metrics-address")
            var router = Router()
            try router.get("/metrics", execution: .loop) { _, _ in PrometheusExposition.response(registry) }
            try router.get("/healthz", execution: .loop) { _, _ in .text("ok\n") }
            let server = HTTPServer(configuration: HTTPServerConfiguration(host: address.host, port: address.port), router: router, logger: logger)
            try server.start()
            metricsServer = server
            print("mes collect: metrics at http://\(address.host):\(server.port)/metrics")
        }
        fflush(nil)

        let signal = TerminationSignals.wait()
        logger.info("received signal \(signal); writing what is held and stopping")
        let statistics = session.stop()
        metricsServer?.shutdown(gracePeriod: 1)
        print("mes collect: received \(statistics.received), stored \(statistics.stored), duplicates \(statistics.duplicates), dead letters \(statistics.deadLetters), spooled batches \(statistics.spooledBatches), still waiting \(statistics.waiting)")
    }
}

/// A running collector: the batching writer, its MQTT subscription and, optionally, the
/// Sparkplug B host session. `mes collect` runs one on its own; `mes serve` runs one beside the
/// web server when a broker is configured.
final class CollectorSession {
    struct Options {
        var batchSize = 5_000
        var batchDelay = 0.02
        var sparkplugHost: String?
        var sparkplugMapping: String?
        var sparkplugReorderTimeout: Int64 = 2_000
    }

    let filter: String
    private let pool: PGPool
    private let collector: MachineDataCollector
    private let client: MQTTClient
    private let hostClient: MQTTClient?
    private let sparkplugHost: String?
    private let birth: UInt64
    private let stopping: StopFlag

    private init(filter: String, pool: PGPool, collector: MachineDataCollector, client: MQTTClient, hostClient: MQTTClient?, sparkplugHost: String?,
                 birth: UInt64, stopping: StopFlag) {
        self.filter = filter
        self.pool = pool
        self.collector = collector
        self.client = client
        self.hostClient = hostClient
        self.sparkplugHost = sparkplugHost
        self.birth = birth
        self.stopping = stopping
    }

    static func start(configuration: MESConfiguration, databaseURL: String, broker: MQTTEndpoint, logger: Logger, options: Options) throws -> CollectorSession {
        let batchSize = options.batchSize, batchDelay = options.batchDelay
        let sparkplugHost = options.sparkplugHost, sparkplugMapping = options.sparkplugMapping
        let sparkplugReorderTimeout = options.sparkplugReorderTimeout
        let pool = PGPool(configuration: PGPoolConfiguration(url: databaseURL, maxConnections: 2))
        let service = MachineDataService(
            pool: pool, unknownMachines: UnknownMachinePolicy(rawValue: configuration.unknownMachines) ?? .register, logger: logger)
        let sparkplug = try sparkplugHost.map { _ in
            SparkplugDecoder(
                mapping: try sparkplugMapping.map { path in try SparkplugDecoder.mapping(file: path) } ?? SparkplugMapping(),
                reorderTimeoutMilliseconds: sparkplugReorderTimeout)
        }
        var reorderTick: MachineDataCollector.Tick?
        if let sparkplug { reorderTick = { now, final in sparkplug.expire(at: now, all: final) } }
        let collector = MachineDataCollector(
            service: service, spool: try Spool(directory: configuration.spoolDirectory),
            settings: MachineDataCollector.Settings(batchSize: batchSize, batchDelay: batchDelay),
            decoder: { topic, payload, receivedAt in
                if let sparkplug, topic.hasPrefix(SparkplugTopic.namespace + "/") {
                    return sparkplug.decode(topic: topic, payload: payload, receivedAt: receivedAt)
                }
                return MachineDataCollector.jsonDecoder(topic, payload, receivedAt)
            },
            tick: reorderTick,
            logger: logger)
        collector.start()

        func clientConfiguration(id: String, persistent: Bool) -> MQTTConfiguration {
            var mqttConfiguration = MQTTConfiguration(
                host: broker.host, port: broker.port, clientID: id, username: broker.username, password: broker.password,
                cleanSession: !persistent, protocolV5: true, tls: configuration.mqttCAFile.map { MQTTConfiguration.TLSOptions(caFile: $0) })
            mqttConfiguration.inflightWindow = 1_000
            return mqttConfiguration
        }
        let accept: @Sendable (MQTTMessage) -> Void = { message in collector.accept(topic: message.topic, payload: message.payload) }
        let client = try MQTTClient(configuration: clientConfiguration(id: configuration.collectorID, persistent: true), onMessage: accept)
        let filter = configuration.collectorShare.map { "$share/\($0)/\(JSONDialect.topicFilter)" } ?? JSONDialect.topicFilter
        try blockingAwait {
            try await client.connect()
            try await client.subscribe(filter, qos: 1)
        }

        // The Sparkplug host: a clean session whose will says the host went offline; STATE
        // online is published, retained, with the will's timestamp once subscribed (Sparkplug 3.0).
        var hostClient: MQTTClient?
        let birth = UInt64(Date().timeIntervalSince1970 * 1000)
        let stopping = StopFlag()
        if let sparkplug, let hostID = sparkplugHost {
            let stateTopic = "\(SparkplugTopic.namespace)/STATE/\(hostID)"
            var hostConfiguration = clientConfiguration(id: "\(configuration.collectorID)-spb-\(hostID)", persistent: false)
            hostConfiguration.will = MQTTMessage(topic: stateTopic, payload: SparkplugPayload.state(online: false, timestamp: birth), qos: 1, retain: true)
            // Our own STATE offline seen while running (a stale retained will, another process
            // with our id): say online again, as the spec asks.
            let box = Locked<MQTTClient?>(nil)
            let spbClient = try MQTTClient(configuration: hostConfiguration) { message in
                if message.topic == stateTopic, String(decoding: message.payload, as: UTF8.self).contains("\"online\":false") {
                    if !stopping.value.withLock({ $0 }), let client = box.withLock({ $0 }) {
                        try? client.send(stateTopic, payload: SparkplugPayload.state(online: true, timestamp: birth), qos: 1, retain: true)
                    }
                    return
                }
                accept(message)
            }
            box.withLock { $0 = spbClient }
            sparkplug.setPublisher { topic, payload in try? spbClient.send(topic, payload: payload, qos: 0) }
            try blockingAwait {
                try await spbClient.connect()
                try await spbClient.subscribe(SparkplugTopic.filter, qos: 1)
                try await spbClient.publish(stateTopic, payload: SparkplugPayload.state(online: true, timestamp: birth), qos: 1, retain: true)
            }
            hostClient = spbClient
            print("mes collect: Sparkplug B host \(hostID) online, subscribed to \(SparkplugTopic.filter)")
        }
        return CollectorSession(
            filter: filter, pool: pool, collector: collector, client: client, hostClient: hostClient, sparkplugHost: sparkplugHost, birth: birth,
            stopping: stopping)
    }

    /// Stops receiving, writes or spools what is held, and says what was done.
    func stop() -> MachineDataCollector.Statistics {
        if let hostClient, let hostID = sparkplugHost {
            // A clean shutdown: say offline first (the will is not sent on a clean disconnect).
            stopping.value.withLock { $0 = true }
            let offline = SparkplugPayload.state(online: false, timestamp: birth)
            try? blockingAwait { try await hostClient.publish("\(SparkplugTopic.namespace)/STATE/\(hostID)", payload: offline, qos: 1, retain: true) }
            hostClient.close()
        }
        client.close()
        collector.stop()
        pool.close()
        return collector.currentStatistics
    }
}

/// Runs async work from a synchronous command and waits for it.
func blockingAwait(_ body: @escaping @Sendable () async throws -> Void) throws {
    _ = try blockingAwait(timeout: nil, body)
}

/// Runs async work from a synchronous command and waits for it, at most `timeout` seconds
/// (nil: for as long as it takes). Returns false when the time ran out; the work goes on.
func blockingAwait(timeout: Double?, _ body: @escaping @Sendable () async throws -> Void) throws -> Bool {
    let done = DispatchSemaphore(value: 0)
    let failure = Locked<(any Error)?>(nil)
    Task {
        do { try await body() } catch { failure.withLock { $0 = error } }
        done.signal()
    }
    if let timeout {
        guard done.wait(timeout: .now() + timeout) == .success else { return false }
    } else {
        done.wait()
    }
    if let error = failure.withLock({ $0 }) { throw error }
    return true
}

/// Set once the collector stops on purpose (its own STATE offline is then expected).
final class StopFlag: Sendable {
    let value = Locked(false)
}
