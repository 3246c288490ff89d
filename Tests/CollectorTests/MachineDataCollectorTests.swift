import Collector
import Domain
import Foundation
import MQTT
import Postgres
import Services
import TestSupport
import Testing
import Workers

/// The collector end to end: real Mosquitto, real PostgreSQL, the product's migrations.
@Suite(.serialized)
struct MachineDataCollectorTests {
    static let t0: Int64 = 1_795_420_800_000  // 2026-11-23 06:00 UTC

    /// A migrated database with site S1; the collector (pool of one connection) subscribed to
    /// the JSON topics on a fresh client id; a publisher; the spool in a fresh folder.
    static func withCollector(
        brokerPort: Int? = nil,
        _ body: (_ collector: MachineDataCollector, _ publisher: MQTTClient, _ admin: PGConnection, _ database: String, _ spool: String) async throws -> Void
    ) async throws {
        try await TestDatabase.withFresh { url in
            let db = try PGConnection.connect(url: url, applicationName: "mes-tests")
            try PGMigrator(migrations: try PGMigration.load(directory: TestDatabase.productMigrations)).migrate(on: db)
            try db.execute("INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'Europe/Berlin')")
            let database = try db.query("SELECT current_database()").decode(String.self)[0]
            let admin = try PGConnection.connect(url: try TestDatabase.serverURL(), applicationName: "mes-tests")
            let spool = NSTemporaryDirectory() + "mes-spool-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: spool) }
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 1, acquireTimeout: 2))
            defer { pool.close() }
            let collector = MachineDataCollector(
                service: MachineDataService(pool: pool), spool: try Spool(directory: spool),
                settings: .init(batchSize: 50, batchDelay: 0.02, retryDelay: (0.05, 0.2)), decoder: MachineDataCollector.jsonDecoder)
            collector.start()
            defer { collector.stop() }
            var broker = try TestMQTT.broker()
            if let brokerPort { broker.port = brokerPort }
            let subscriber = try MQTTClient(
                configuration: MQTTConfiguration(
                    host: broker.host, port: broker.port, clientID: "mes-collector-\(UUID().uuidString.prefix(8))",
                    username: broker.user, password: broker.password),
                onMessage: { message in collector.accept(topic: message.topic, payload: message.payload) })
            defer { subscriber.close() }
            try await subscriber.connect()
            try await subscriber.subscribe(JSONDialect.topicFilter)
            let publisher = try MQTTClient(
                configuration: MQTTConfiguration(
                    host: broker.host, port: broker.port, clientID: "mes-machine-\(UUID().uuidString.prefix(8))",
                    username: broker.user, password: broker.password))
            defer { publisher.close() }
            try await publisher.connect()
            try await body(collector, publisher, admin, database, spool)
            try admin.execute("ALTER DATABASE \(identifier: database) WITH ALLOW_CONNECTIONS true")
        }
    }

    /// Waits until `condition` holds, for up to `seconds`.
    static func eventually(_ seconds: Double = 10, _ condition: () throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }

    /// Waits until the collector's statistics satisfy `condition`, for up to `seconds`.
    ///
    /// The collector is passed in, not captured by a closure in the test's body. The same poll
    /// written inline as `eventually { collector.currentStatistics.stored == 200 }` in the
    /// broker-restart test returned false on all 991 polls of 20 s, although the statistics read
    /// right after showed the batch stored, and small variants of that closure crash the Swift
    /// 6.3.1 compiler (its SendNonSendable pass). Written this way the poll sees the batch within one 20 ms turn,
    /// every time: the stall noted in issue 5 was the test's, not the collector's.
    static func eventually(
        _ seconds: Double = 10, _ collector: MachineDataCollector, _ condition: (MachineDataCollector.Statistics) -> Bool
    ) async throws -> Bool {
        try await eventually(seconds) { condition(collector.currentStatistics) }
    }

    static func count(_ table: String, _ admin: PGConnection, _ database: String) throws -> Int64 {
        let url = TestDatabase.url(try TestDatabase.serverURL(), database: database)
        let db = try PGConnection.connect(url: url, applicationName: "mes-tests")
        let rows: [Int64] = try db.query("SELECT count(*) FROM \(identifier: table)").decode(Int64.self)
        return rows[0]
    }

    static func publishCounts(_ publisher: MQTTClient, machine: String, from: Int, to: Int) async throws {
        for i in from..<to {
            let payload = #"{"ts": \#(t0 + Int64(i) * 1000), "counter": "total", "value": \#(i)}"#
            try await publisher.publish("mes/S1/A1/L1/\(machine)/count", payload: Array(payload.utf8))
        }
    }

    @Test func messagesFromMQTT_reachTheDatabase_andBadOnesAreDeadLettered() async throws {
        try await Self.withCollector { collector, publisher, admin, database, _ in
            try await publisher.publish("mes/S1/A1/L1/M1/state", payload: Array(#"{"ts": \#(Self.t0), "state": "running"}"#.utf8))
            try await Self.publishCounts(publisher, machine: "M1", from: 0, to: 120)
            try await publisher.publish("mes/S1/A1/L1/M1/state", payload: Array(#"{"ts": 12, "state": "running"}"#.utf8))
            try await publisher.publish("mes/S1/A1/L1/M1/state", payload: [0xff, 0xfe])
            let done = try await Self.eventually { collector.currentStatistics.stored == 121 && collector.currentStatistics.deadLetters == 2 }
            #expect(done, "\(collector.currentStatistics)")
            #expect(try Self.count("machine_event", admin, database) == 121)
            #expect(try Self.count("dead_letter", admin, database) == 2)
            #expect(try Self.count("machine_state_interval", admin, database) == 1)
        }
    }

    /// The database refuses connections for a while (a real outage, made on demand with
    /// ALLOW_CONNECTIONS): the collector spools, keeps accepting, and writes everything once
    /// the database is back, with nothing lost and nothing twice.
    @Test func aDatabaseOutage_isSpooledAndWrittenLater() async throws {
        try await Self.withCollector { collector, publisher, admin, database, spool in
            try await Self.publishCounts(publisher, machine: "M1", from: 0, to: 100)
            #expect(try await Self.eventually { collector.currentStatistics.stored == 100 })

            try admin.execute("ALTER DATABASE \(identifier: database) WITH ALLOW_CONNECTIONS false")
            try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database)")
            try await Self.publishCounts(publisher, machine: "M1", from: 100, to: 400)
            let spooled = try await Self.eventually {
                collector.currentStatistics.received == 400 && !Spool.isEmpty(spool) && collector.currentStatistics.failedWrites > 0
            }
            #expect(spooled, "\(collector.currentStatistics)")

            try admin.execute("ALTER DATABASE \(identifier: database) WITH ALLOW_CONNECTIONS true")
            let caughtUp = try await Self.eventually(20) { collector.currentStatistics.stored == 400 }
            #expect(caughtUp, "\(collector.currentStatistics)")
            #expect(Spool.isEmpty(spool))
            #expect(try Self.count("machine_event", admin, database) == 400)
            #expect(collector.currentStatistics.duplicates == 0 && collector.currentStatistics.waiting == 0)
        }
    }
}

extension MachineDataCollectorTests {
    /// The broker restarts (with an empty store) while the collector runs: the collector
    /// reconnects, subscribes again, and stores what is published before and after.
    @Test func aBrokerRestart_losesNothingPublishedAroundIt() async throws {
        let broker = try TestBroker.start()
        defer { broker.stop() }
        try await Self.withCollector(brokerPort: broker.port) { collector, publisher, admin, database, _ in
            try await Self.publishCounts(publisher, machine: "M1", from: 0, to: 100)
            #expect(try await Self.eventually { collector.currentStatistics.stored == 100 })
            try broker.restart()
            // Both clients reconnect with backoff, and the new broker drops what is published
            // before the collector has subscribed again: repeat one message (the same key, so
            // it is stored once) until it arrives, then publish the rest.
            let deadline = Date().addingTimeInterval(20)
            while collector.currentStatistics.stored < 101 && Date() < deadline {
                try? await Self.publishCounts(publisher, machine: "M1", from: 100, to: 101)
                try await Task.sleep(for: .milliseconds(200))
            }
            try await Self.publishCounts(publisher, machine: "M1", from: 101, to: 200)
            let stored = try await Self.eventually(20, collector) { $0.stored == 200 }
            #expect(stored, "\(collector.currentStatistics)")
            #expect(try Self.count("machine_event", admin, database) == 200)
        }
    }

    /// The Sparkplug reorder window on the collector's clock: a DDATA held behind a gap that
    /// never closes reaches the database once the timeout passes (the writer thread's tick),
    /// and the rebirth request goes out; nothing held is lost at stop.
    @Test func sparkplugDataHeldInTheReorderWindow_isWrittenAfterTheTimeout() async throws {
        try await TestDatabase.withFresh { url in
            let db = try PGConnection.connect(url: url, applicationName: "mes-tests")
            try PGMigrator(migrations: try PGMigration.load(directory: TestDatabase.productMigrations)).migrate(on: db)
            try db.execute("INSERT INTO site (code, name, time_zone) VALUES ('Plant1', 'Plant 1', 'Europe/Berlin')")
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 1, acquireTimeout: 2))
            defer { pool.close() }
            let sparkplug = SparkplugDecoder(reorderTimeoutMilliseconds: 300)
            let commands = Locked<[String]>([])
            sparkplug.setPublisher { topic, _ in commands.withLock { $0.append(topic) } }
            let spool = NSTemporaryDirectory() + "mes-spool-" + UUID().uuidString
            defer { try? FileManager.default.removeItem(atPath: spool) }
            let collector = MachineDataCollector(
                service: MachineDataService(pool: pool), spool: try Spool(directory: spool),
                decoder: { topic, payload, receivedAt in sparkplug.decode(topic: topic, payload: payload, receivedAt: receivedAt) },
                tick: { now, final in sparkplug.expire(at: now, all: final) })
            collector.start()
            let node = "spBv1.0/Plant1/NBIRTH/Line1-Gateway"
            collector.accept(topic: node, payload: SparkplugVectors.v02_nbirth)
            collector.accept(topic: "spBv1.0/Plant1/DBIRTH/Line1-Gateway/CNC-01", payload: SparkplugVectors.v03_dbirthCnc01)
            collector.accept(topic: "spBv1.0/Plant1/DBIRTH/Line1-Gateway/CNC-02", payload: SparkplugVectors.v04_dbirthCnc02)
            // Seq 3 never comes.
            collector.accept(topic: "spBv1.0/Plant1/DDATA/Line1-Gateway/CNC-01", payload: SparkplugTests.cycleCount(7, seq: 4))
            func cycleCounts() throws -> [Int64] {
                try db.query("SELECT value::bigint FROM machine_event WHERE kind = 'count' AND subject = 'total' ORDER BY value").decode(Int64.self)
            }
            let released = try await Self.eventually(5) { try cycleCounts().contains(7) }
            #expect(released, "\(collector.currentStatistics)")
            #expect(commands.withLock { $0 } == ["spBv1.0/Plant1/NCMD/Line1-Gateway"])

            // Held again, and the collector stops before the timeout: written, not lost.
            collector.accept(topic: "spBv1.0/Plant1/DDATA/Line1-Gateway/CNC-01", payload: SparkplugTests.cycleCount(9, seq: 7))
            collector.stop()
            #expect(try cycleCounts().contains(9))
        }
    }
}

extension Spool {
    static func isEmpty(_ directory: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).allSatisfy { !$0.hasSuffix(".batch") }
    }
}
