import ArgumentParser
import Collector
import Config
import Domain
import Foundation
import HTTP
import MQTT
import Simulation
import Workers

/// `mes simulate`: a plant publishing over MQTT.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Publish a simulated plant's machine data over MQTT (JSON dialect, or Sparkplug B).",
        discussion: """
            Machines M001… on lines of ten (L1, L2, …) run cycles of 8 to 45 s, count parts and \
            rejects on PLC-style counters, stop for small stops and breakdowns (one in five \
            without a reason), change over between parts, wait for material, raise and clear \
            alarms, and report a bore diameter every fifth cycle that now and then drifts or \
            shifts so that SPC rules fire. The same --seed gives the same plant. Messages go to \
            mes/<site>/A1/<line>/<machine>/<kind> with QoS 1; timestamps are simulated time, \
            starting now and running --speed times faster than the clock. Stops after --seconds \
            of wall-clock time, or on SIGTERM/SIGINT. With --sparkplug each line is a Sparkplug B \
            edge node (group = site, one device per machine; births, alias-only data, seq, an \
            NDEATH will) that answers rebirth requests.
            """
    )

    @Option(name: .customLong("mqtt-url"), help: "Broker, mqtt://user:password@host:port (env: MES_MQTT_URL).")
    var mqttURL: String?

    @Option(help: "Number of machines.")
    var machines: Int = 10

    @Option(help: "Wall-clock seconds to run; 0 runs until SIGTERM or SIGINT.")
    var seconds: Double = 0

    @Option(help: "Seed of the random plant.")
    var seed: UInt64 = 1

    @Option(help: "Simulated seconds per wall-clock second.")
    var speed: Double = 1

    @Option(help: "Site code in the topics (the site must exist in the MES).")
    var site: String = "S1"

    @Flag(help: "Publish as Sparkplug B edge nodes, one per line, instead of the JSON dialect.")
    var sparkplug = false

    func validate() throws {
        guard (1...100_000).contains(machines) else { throw ValidationError("--machines must be from 1 to 100000") }
        guard seconds >= 0 else { throw ValidationError("--seconds cannot be negative") }
        guard speed > 0 else { throw ValidationError("--speed must be positive") }
    }

    func run() throws {
        TerminationSignals.block()
        var flags: [String: String] = [:]
        flags["MES_MQTT_URL"] = mqttURL
        let configuration: MESConfiguration
        do {
            configuration = try MESConfiguration(environment: processEnvironment(), flags: flags)
        } catch {
            throw ValidationError(error.description)
        }
        guard let broker = configuration.mqtt else {
            throw ValidationError("MES_MQTT_URL: no broker given: pass --mqtt-url or set MES_MQTT_URL, e.g. mqtt://127.0.0.1:1883")
        }
        let client = try MQTTClient(configuration: MQTTConfiguration(
            host: broker.host, port: broker.port, clientID: "mes-simulate-\(seed)-\(getpid())", username: broker.username,
            password: broker.password, tls: configuration.mqttCAFile.map { MQTTConfiguration.TLSOptions(caFile: $0) }))
        try blockingAwait { try await client.connect() }

        var settings = PlantSimulator.Settings()
        settings.site = site
        let startWall = Date()
        let startMilliseconds = Int64(startWall.timeIntervalSince1970 * 1000)
        var plant = PlantSimulator(machines: machines, seed: seed, start: startMilliseconds, settings: settings)
        print("mes simulate: \(machines) machines, seed \(seed), speed \(speed)x, publishing to \(broker)")
        fflush(nil)
        var published = 0
        let edge = Locked(SparkplugEdge(bdSeq: seed % 256))
        var nodes: [String: MQTTClient] = [:]
        /// The MQTT client of a line's edge node: its will is the node's NDEATH, and it answers
        /// NCMD rebirth requests with fresh births.
        func nodeClient(_ node: String) throws -> MQTTClient {
            if let client = nodes[node] { return client }
            var nodeConfiguration = MQTTConfiguration(
                host: broker.host, port: broker.port, clientID: "mes-simulate-\(seed)-\(getpid())-\(node)", username: broker.username,
                password: broker.password, tls: configuration.mqttCAFile.map { MQTTConfiguration.TLSOptions(caFile: $0) })
            let death = edge.withLock { $0.death(site: site, node: node) }
            nodeConfiguration.will = MQTTMessage(topic: death.topic, payload: death.payload, qos: 1)
            let box = Locked<MQTTClient?>(nil)
            let client = try MQTTClient(configuration: nodeConfiguration) { [site] command in
                guard let payload = try? SparkplugPayload.decode(command.payload),
                      payload.metrics.contains(where: { $0.name == "Node Control/Rebirth" && $0.value(datatype: nil) == .boolean(true) }),
                      let client = box.withLock({ $0 })
                else { return }
                let births = edge.withLock { $0.rebirth(site: site, node: node, timestamp: Int64(Date().timeIntervalSince1970 * 1000)) }
                for birth in births { try? client.send(birth.topic, payload: birth.payload, qos: 0) }
            }
            box.withLock { $0 = client }
            try blockingAwait {
                try await client.connect()
                try await client.subscribe("\(SparkplugTopic.namespace)/\(site)/NCMD/\(node)", qos: 1)
            }
            nodes[node] = client
            return client
        }
        while true {
            let elapsed = Date().timeIntervalSince(startWall)
            let finished = seconds > 0 && elapsed >= seconds
            let now = startMilliseconds + Int64(min(elapsed, seconds > 0 ? seconds : elapsed) * speed * 1000)
            for message in plant.advance(to: now) {
                if sparkplug {
                    let node = try nodeClient(message.path.line)
                    for out in edge.withLock({ $0.publish(message) }) { try node.send(out.topic, payload: out.payload, qos: 0) }
                } else {
                    let (topic, payload) = JSONDialect.encode(message)
                    try client.send(topic, payload: payload)
                }
                published += 1
            }
            if finished || TerminationSignals.pending() != nil { break }
            usleep(50_000)
        }
        // Let libmosquitto deliver what is queued before disconnecting: a last message awaited
        // behind the rest. Best effort and bounded: after a Ctrl-C the broker may be stopping
        // too, and its ack never comes (close() then ends the wait).
        for node in nodes.values {
            _ = try? blockingAwait(timeout: 10) { try await node.publish("mes-simulate/done", payload: [], qos: 1) }
            node.close()
        }
        _ = try? blockingAwait(timeout: 10) { try await client.publish("mes-simulate/done", payload: [], qos: 1) }
        client.close()
        print("mes simulate: published \(published) machine messages\(sparkplug ? " as Sparkplug B from \(nodes.count) edge nodes" : "")")
    }
}
