import ArgumentParser
import Collector
import Config
import Foundation
import HTTP
import Logging
import MQTT
import Postgres
import Services

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
            written once it is back. Several collectors may split the load with --share. On SIGTERM \
            or SIGINT it stops receiving, writes or spools what it holds, and exits. See docs/mqtt.md.
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

    @Option(help: "Most messages per database transaction.")
    var batchSize: Int = 5_000

    @Option(help: "Seconds a message may wait for its batch to fill.")
    var batchDelay: Double = 0.02

    func validate() throws {
        guard batchSize > 0 else { throw ValidationError("--batch-size must be positive") }
        guard batchDelay > 0 else { throw ValidationError("--batch-delay must be positive") }
    }

    func run() throws {
        TerminationSignals.block()
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

        let pool = PGPool(configuration: PGPoolConfiguration(url: databaseURL, maxConnections: 2))
        let service = MachineDataService(
            pool: pool, unknownMachines: UnknownMachinePolicy(rawValue: configuration.unknownMachines) ?? .register, logger: logger)
        let collector = MachineDataCollector(
            service: service, spool: try Spool(directory: configuration.spoolDirectory),
            settings: MachineDataCollector.Settings(batchSize: batchSize, batchDelay: batchDelay),
            decoder: MachineDataCollector.jsonDecoder, logger: logger)
        collector.start()

        var mqttConfiguration = MQTTConfiguration(
            host: broker.host, port: broker.port, clientID: configuration.collectorID, username: broker.username, password: broker.password,
            cleanSession: false, protocolV5: true, tls: configuration.mqttCAFile.map { MQTTConfiguration.TLSOptions(caFile: $0) })
        mqttConfiguration.inflightWindow = 1_000
        let client = try MQTTClient(
            configuration: mqttConfiguration, onMessage: { message in collector.accept(topic: message.topic, payload: message.payload) })
        let filter = configuration.collectorShare.map { "$share/\($0)/\(JSONDialect.topicFilter)" } ?? JSONDialect.topicFilter
        try blockingAwait {
            try await client.connect()
            try await client.subscribe(filter, qos: 1)
        }
        print("mes collect: subscribed to \(filter) on \(broker) as \(configuration.collectorID)")
        fflush(nil)

        let signal = TerminationSignals.wait()
        logger.info("received signal \(signal); writing what is held and stopping")
        client.close()
        collector.stop()
        pool.close()
        let statistics = collector.currentStatistics
        print("mes collect: received \(statistics.received), stored \(statistics.stored), duplicates \(statistics.duplicates), dead letters \(statistics.deadLetters), spooled batches \(statistics.spooledBatches), still waiting \(statistics.waiting)")
    }
}

/// Runs async work from a synchronous command and waits for it.
func blockingAwait(_ body: @escaping @Sendable () async throws -> Void) throws {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var failure: (any Error)?
    Task {
        do { try await body() } catch { failure = error }
        done.signal()
    }
    done.wait()
    if let failure { throw failure }
}
