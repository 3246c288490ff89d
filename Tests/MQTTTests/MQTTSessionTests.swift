import Foundation
import Glibc
import MQTT
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

    @Test func tlsWithAMissingCAFile_isAClearError() throws {
        var configuration = try MQTTClientTests.configuration()
        configuration.tls = .init(caFile: "/nonexistent/ca.pem")
        let error = try #require(throws: MQTTError.self) { try MQTTClient(configuration: configuration) }
        #expect(error.operation.contains("/nonexistent/ca.pem"))
    }
}

/// A private broker for tests that restart it, started with the project's own script.
final class TestBroker {
    let port: Int
    private(set) var runDirectory: String

    private init(port: Int, runDirectory: String) {
        self.port = port
        self.runDirectory = runDirectory
    }
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")

    static func start(port: Int? = nil) throws -> TestBroker {
        var environment = ProcessInfo.processInfo.environment
        if let port { environment["MQTT_PORT"] = String(port) }
        let (status, text) = try runScript(scripts.appendingPathComponent("mqtt-up.sh").path, arguments: [], environment: environment)
        guard status == 0,
              let run = text.split(separator: "\n").first(where: { $0.contains("MES_MQTT_RUN_DIR=") })?.split(separator: "=").last,
              let url = text.split(separator: "\n").first(where: { $0.contains("MES_MQTT_URL=") }),
              let portText = url.split(separator: ":").last, let actual = Int(portText)
        else { throw POSIXError(.EIO) }
        return TestBroker(port: actual, runDirectory: String(run))
    }

    func stop() {
        _ = try? Self.runScript(Self.scripts.appendingPathComponent("mqtt-down.sh").path, arguments: [runDirectory], environment: ProcessInfo.processInfo.environment)
    }

    /// Runs a script as a shell would: signals unblocked and at their default actions. The test
    /// runner's threads block some signals, a spawned broker would inherit that mask, and
    /// mosquitto restores the inherited mask while it waits, so it would never see SIGTERM.
    static func runScript(_ path: String, arguments: [String], environment: [String: String]) throws -> (Int32, String) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EIO) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Only fd 1 may keep the pipe open: a daemon started by the script inherits every other
        // descriptor, and would keep us waiting for an end of file that never comes.
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw POSIXError(.EIO)
        }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(fds[0], &buffer, buffer.count)
            if count <= 0 { break }
            output += buffer[0..<count]
        }
        close(fds[0])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return ((status >> 8) & 0xff, String(decoding: output, as: UTF8.self))
    }

    /// Stops the broker and starts a new one on the same port (with a fresh, empty store).
    func restart() throws {
        stop()
        runDirectory = try TestBroker.start(port: port).runDirectory
    }
}
