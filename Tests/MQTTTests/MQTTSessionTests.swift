import Foundation
import Glibc
import MQTT
import TestSupport
import Testing

/// Sessions, shared subscriptions and reconnects against real Mosquitto brokers.
@Suite(.serialized)
struct MQTTSessionTests {
    /// Closes `client` after `seconds`, which finishes its streams, so no test can hang.
    private func watchdog(_ client: MQTTClient, seconds: Double) -> Task<Void, any Error> {
        Task {
            try await Task.sleep(for: .seconds(seconds))
            client.close()
        }
    }

    @Test func persistentSession_receivesWhatWasPublishedWhileAway() async throws {
        let id = "mes-persist-\(UUID().uuidString.prefix(8))"
        let topic = "mes/test/\(UUID().uuidString)/count"
        var configuration = try MQTTClientTests.configuration()
        configuration.clientID = id
        configuration.cleanSession = false
        configuration.sessionExpirySeconds = 300
        let first = try MQTTClient(configuration: configuration)
        try await first.connect()
        try await first.subscribe(topic, qos: 1)
        first.close()

        let publisher = try MQTTClient(configuration: MQTTClientTests.configuration())
        defer { publisher.close() }
        try await publisher.connect()
        for n in 1...3 { try await publisher.publish(topic, payload: Array("count \(n)".utf8), qos: 1) }

        let second = try MQTTClient(configuration: configuration)
        defer { second.close() }
        let guardTask = watchdog(second, seconds: 10)
        defer { guardTask.cancel() }
        var events = second.events.makeAsyncIterator()
        try await second.connect()
        #expect(await events.next() == .connected(sessionPresent: true))
        var messages = second.messages.makeAsyncIterator()
        var received: [String] = []
        for _ in 1...3 {
            guard let message = await messages.next() else { break }
            received.append(String(decoding: message.payload, as: UTF8.self))
        }
        #expect(received == ["count 1", "count 2", "count 3"], "queued while the client was away, delivered without subscribing again")
    }

    @Test func sharedSubscription_splitsMessagesAcrossTheGroup() async throws {
        let topic = "mes/test/\(UUID().uuidString)/state"
        let collectors = try (0..<2).map { _ in try MQTTClient(configuration: MQTTClientTests.configuration()) }
        defer { collectors.forEach { $0.close() } }
        for collector in collectors {
            try await collector.connect()
            try await collector.subscribe("$share/collectors/\(topic)", qos: 1)
        }
        let publisher = try MQTTClient(configuration: MQTTClientTests.configuration())
        defer { publisher.close() }
        try await publisher.connect()
        for n in 0..<20 { try await publisher.publish(topic, payload: Array("\(n)".utf8), qos: 1) }

        let counts = await withTaskGroup(of: [String].self) { group in
            for collector in collectors {
                group.addTask {
                    var received: [String] = []
                    var iterator = collector.messages.makeAsyncIterator()
                    let deadline = ContinuousClock.now + .seconds(3)
                    while ContinuousClock.now < deadline, received.count < 20 {
                        let watchdog = Task { try await Task.sleep(for: .milliseconds(700)); collector.close() }
                        guard let message = await iterator.next() else { break }
                        watchdog.cancel()
                        received.append(String(decoding: message.payload, as: UTF8.self))
                    }
                    return received
                }
            }
            return await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        let all = counts.flatMap { $0 }
        #expect(all.count == 20)
        #expect(Set(all).count == 20, "no message went to both")
        #expect(counts.allSatisfy { !$0.isEmpty }, "both collectors took a share: \(counts.map(\.count))")
    }

    @Test func client_reconnectsAfterTheBrokerRestarts_andRenewsItsSubscription() async throws {
        let broker = try TestBroker.start()
        defer { broker.stop() }  // stops whichever broker runs last
        var configuration = try MQTTClientTests.configuration()
        configuration.port = broker.port
        configuration.reconnectDelay = (1, 2)
        let client = try MQTTClient(configuration: configuration)
        defer { client.close() }
        let guardTask = watchdog(client, seconds: 20)
        defer { guardTask.cancel() }
        var events = client.events.makeAsyncIterator()
        try await client.connect()
        #expect(await events.next() == .connected(sessionPresent: false))
        let topic = "mes/test/reconnect"
        try await client.subscribe(topic, qos: 1)

        try broker.restart()
        guard case .disconnected? = await events.next() else { Issue.record("no disconnect event"); return }
        var reconnected = false
        while let event = await events.next() {
            if case .connected = event { reconnected = true; break }
        }
        #expect(reconnected)

        var publisherConfiguration = try MQTTClientTests.configuration()
        publisherConfiguration.port = broker.port
        let publisher = try MQTTClient(configuration: publisherConfiguration)
        defer { publisher.close() }
        try await publisher.connect()
        // The renewed SUBSCRIBE races the first publishes: publish a few times, spaced out,
        // then take the first message that arrives (the watchdog bounds the wait).
        for _ in 0..<10 {
            try await publisher.publish(topic, payload: Array("after restart".utf8), qos: 1)
            try await Task.sleep(for: .milliseconds(100))
        }
        var messages = client.messages.makeAsyncIterator()
        let message = await messages.next()
        #expect(message.map { String(decoding: $0.payload, as: UTF8.self) } == "after restart")
    }

    /// QoS 1 messages given to `send` while the broker is away (libmosquitto answers
    /// MOSQ_ERR_NO_CONN but has queued them) are neither refused nor lost: they go, once, after
    /// the reconnect. `publish`, which awaits the ack, throws at once instead of hanging.
    @Test func messagesGivenWhileTheBrokerIsAway_areQueued_andSentOnceItIsBack() async throws {
        var broker = try TestBroker.start()
        defer { broker.stop() }  // stops whichever broker runs last
        var configuration = try MQTTClientTests.configuration()
        configuration.port = broker.port
        configuration.reconnectDelay = (1, 2)
        let publisher = try MQTTClient(configuration: configuration)
        defer { publisher.close() }
        let guardTask = watchdog(publisher, seconds: 30)
        defer { guardTask.cancel() }
        var events = publisher.events.makeAsyncIterator()
        try await publisher.connect()
        #expect(await events.next() == .connected(sessionPresent: false))

        broker.stop()
        guard case .disconnected? = await events.next() else { Issue.record("no disconnect event"); return }
        let topic = "mes/test/offline/\(UUID().uuidString.prefix(8))"
        // Retained, so that a subscriber coming later still finds each one on the new broker.
        for n in 0..<5 { try publisher.send("\(topic)/\(n)", payload: Array("queued \(n)".utf8), qos: 1, retain: true) }
        // `publish` does not wait for a reconnect: it says the connection is down.
        await #expect(throws: MQTTError.self) { try await publisher.publish("\(topic)/refused", payload: [], qos: 1) }
        broker = try TestBroker.start(port: broker.port)
        while let event = await events.next() {
            if case .connected = event { break }
        }
        // Once reconnected, an awaited publish comes after the five queued ones.
        try await publisher.publish("\(topic)/last", payload: Array("awaited".utf8), qos: 1, retain: true)

        var subscriberConfiguration = try MQTTClientTests.configuration()
        subscriberConfiguration.port = broker.port
        let subscriber = try MQTTClient(configuration: subscriberConfiguration)
        defer { subscriber.close() }
        let subscriberGuard = watchdog(subscriber, seconds: 10)
        defer { subscriberGuard.cancel() }
        try await subscriber.connect()
        try await subscriber.subscribe("\(topic)/#", qos: 1)
        var messages = subscriber.messages.makeAsyncIterator()
        var received: Set<String> = []
        for _ in 0..<6 {
            guard let message = await messages.next() else { break }
            received.insert(String(decoding: message.payload, as: UTF8.self))
        }
        #expect(received == Set((0..<5).map { "queued \($0)" } + ["awaited"]))
    }

    /// A client that vanishes without DISCONNECT gets its will published by the broker (the
    /// Sparkplug host's STATE offline, an edge node's NDEATH); a clean close does not.
    @Test func will_isPublishedWhenTheConnectionDies_notOnACleanClose() async throws {
        let topic = "mes/test/will/\(UUID().uuidString)"
        let watcher = try MQTTClient(configuration: MQTTClientTests.configuration())
        let guardTask = watchdog(watcher, seconds: 10)
        defer { guardTask.cancel(); watcher.close() }
        try await watcher.connect()
        try await watcher.subscribe(topic, qos: 1)

        var clean = try MQTTClientTests.configuration()
        clean.will = MQTTMessage(topic: topic, payload: Array("clean".utf8))
        let leaving = try MQTTClient(configuration: clean)
        try await leaving.connect()
        leaving.close()

        var dying = try MQTTClientTests.configuration()
        dying.will = MQTTMessage(topic: topic, payload: Array("died".utf8))
        let crashing = try MQTTClient(configuration: dying)
        defer { crashing.close() }
        try await crashing.connect()
        crashing.abortConnection()

        var messages = watcher.messages.makeAsyncIterator()
        let first = await messages.next()
        #expect(first.map { String(decoding: $0.payload, as: UTF8.self) } == "died")
    }

    @Test func tlsWithAMissingCAFile_isAClearError() throws {
        var configuration = try MQTTClientTests.configuration()
        configuration.tls = .init(caFile: "/nonexistent/ca.pem")
        let error = try #require(throws: MQTTError.self) { try MQTTClient(configuration: configuration) }
        #expect(error.operation.contains("/nonexistent/ca.pem"))
    }
}
