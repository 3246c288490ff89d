import CMosquitto
import Glibc
import Workers

/// Where and how to connect.
public struct MQTTConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var clientID: String
    public var username: String?
    public var password: String?
    /// false keeps the session (subscriptions and queued QoS 1 messages) on the broker while
    /// the client is away.
    public var cleanSession: Bool
    /// Speak MQTT v5; v3.1.1 otherwise.
    public var protocolV5: Bool
    public var keepAliveSeconds: Int
    /// With v5 and `cleanSession` false: how long the broker keeps the session (subscriptions
    /// and queued QoS 1 messages) after a disconnect. v3.1.1 sessions last until cleaned.
    public var sessionExpirySeconds: UInt32
    /// Reconnect backoff: the first retry after `minimum` seconds, doubling up to `maximum`.
    public var reconnectDelay: (minimum: UInt32, maximum: UInt32)
    /// TLS to the broker (`mqtts://`), or nil for plain TCP.
    public var tls: TLSOptions?
    /// The message the broker publishes for this client if it disappears without a clean
    /// disconnect (a Sparkplug host's `STATE` offline, an edge node's `NDEATH`).
    public var will: MQTTMessage?
    /// MQTT v5 receive and send maximum: QoS 1 messages in flight at once each way (1–65535;
    /// libmosquitto's default is 20). A collector raises it so a fast broker is not held to 20
    /// messages per round trip.
    public var inflightWindow: Int = 20

    /// Certificates for a TLS connection.
    public struct TLSOptions: Sendable {
        /// PEM file of the certificate authorities to trust.
        public var caFile: String
        /// Client certificate and key, for brokers that require them.
        public var certificateFile: String?
        public var keyFile: String?

        public init(caFile: String, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    public init(
        host: String = "127.0.0.1", port: Int = 1883, clientID: String, username: String? = nil, password: String? = nil,
        cleanSession: Bool = true, protocolV5: Bool = true, keepAliveSeconds: Int = 30, sessionExpirySeconds: UInt32 = 86_400,
        reconnectDelay: (minimum: UInt32, maximum: UInt32) = (1, 30), tls: TLSOptions? = nil
    ) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.username = username
        self.password = password
        self.cleanSession = cleanSession
        self.protocolV5 = protocolV5
        self.keepAliveSeconds = keepAliveSeconds
        self.sessionExpirySeconds = sessionExpirySeconds
        self.reconnectDelay = reconnectDelay
        self.tls = tls
    }
}

/// What happens to the connection.
public enum MQTTEvent: Sendable, Equatable {
    /// Connected (again); `sessionPresent` when the broker kept our session.
    case connected(sessionPresent: Bool)
    /// The connection dropped; libmosquitto reconnects with backoff by itself.
    case disconnected(code: Int32)
}

/// A message received on a subscription. Topic and payload are copied out of libmosquitto's
/// buffers, which are freed when its callback returns.
public struct MQTTMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int32
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// An MQTT client over libmosquitto, whose network loop runs on libmosquitto's own thread.
///
/// C callbacks capture nothing: the client reaches them through libmosquitto's userdata pointer
/// (`Unmanaged`), retained until `close()` has stopped the loop, so a callback never sees a freed
/// object. Callbacks only resume continuations and yield into `messages`.
public final class MQTTClient: @unchecked Sendable {
    // @unchecked: `handle` is immutable, and libmosquitto's calls are thread-safe while
    // mosquitto_loop_start runs its network thread; all mutable Swift state is inside `state`.
    private let handle: OpaquePointer
    public let configuration: MQTTConfiguration
    /// Messages from every subscription, in arrival order, unless a message handler was given.
    /// Keeps the newest 100,000 when the reader falls behind. Finishes on `close()`.
    public let messages: AsyncStream<MQTTMessage>
    /// Called with every message on the network thread instead of `messages`: for a reader
    /// that must never lose one (the collector), and that returns quickly.
    private let handler: (@Sendable (MQTTMessage) -> Void)?
    private let messageContinuation: AsyncStream<MQTTMessage>.Continuation
    /// Connects and disconnects, for logs and health pages. Finishes on `close()`.
    public let events: AsyncStream<MQTTEvent>
    private let eventContinuation: AsyncStream<MQTTEvent>.Continuation
    private let state = Locked(State())

    private struct State {
        var connectWaiter: CheckedContinuation<Void, any Error>?
        var ackWaiters: [Int32: CheckedContinuation<Void, any Error>] = [:]
        var early: Set<Int32> = []  // acks that arrived before their waiter registered
        var unawaited: Set<Int32> = []  // ids of messages sent and subscriptions renewed without a waiter
        var closed = false
        var retained = false
        /// Filters to subscribe again after a reconnect that lost the session.
        var subscriptions: [String: Int32] = [:]
        var connections = 0
    }

    private static let libraryInit: Int32 = mosquitto_lib_init()

    /// - Parameter onMessage: receives every message on libmosquitto's network thread instead
    ///   of `messages`; it must not block for long, since nothing else is read meanwhile.
    public init(configuration: MQTTConfiguration, onMessage: (@Sendable (MQTTMessage) -> Void)? = nil) throws {
        try check(Self.libraryInit, "mosquitto_lib_init")
        guard let handle = mosquitto_new(configuration.clientID, configuration.cleanSession, nil) else {
            throw MQTTError(operation: "mosquitto_new", code: errno, message: String(cString: strerror(errno)))
        }
        self.handle = handle
        self.configuration = configuration
        self.handler = onMessage
        (messages, messageContinuation) = AsyncStream.makeStream(of: MQTTMessage.self, bufferingPolicy: .bufferingNewest(100_000))
        (events, eventContinuation) = AsyncStream.makeStream(of: MQTTEvent.self, bufferingPolicy: .bufferingNewest(1000))
        if configuration.protocolV5 {
            try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5), "protocol version")
            let window = Int32(min(max(configuration.inflightWindow, 1), 65_535))
            try check(mosquitto_int_option(handle, MOSQ_OPT_RECEIVE_MAXIMUM, window), "receive maximum")
            try check(mosquitto_int_option(handle, MOSQ_OPT_SEND_MAXIMUM, window), "send maximum")
        }
        if let username = configuration.username {
            try check(mosquitto_username_pw_set(handle, username, configuration.password), "mosquitto_username_pw_set")
        }
        try check(mosquitto_reconnect_delay_set(
            handle, configuration.reconnectDelay.minimum, max(configuration.reconnectDelay.minimum, configuration.reconnectDelay.maximum), true),
            "mosquitto_reconnect_delay_set")
        if let will = configuration.will {
            try check(mosquitto_will_set(handle, will.topic, Int32(will.payload.count), will.payload, will.qos, will.retain), "mosquitto_will_set")
        }
        if let tls = configuration.tls {
            try check(mosquitto_tls_set(handle, tls.caFile, nil, tls.certificateFile, tls.keyFile, nil), "mosquitto_tls_set(\(tls.caFile))")
        }
        mosquitto_connect_with_flags_callback_set(handle) { _, userdata, rc, flags in
            // CONNACK flags bit 0 is "session present" (MQTT 3.1.1 section 3.2.2.2, v5 section 3.2.2.1.1).
            MQTTClient.from(userdata)?.connected(rc: rc, sessionPresent: flags & 1 == 1)
        }
        mosquitto_disconnect_callback_set(handle) { _, userdata, rc in
            MQTTClient.from(userdata)?.eventContinuation.yield(.disconnected(code: rc))
        }
        mosquitto_subscribe_callback_set(handle) { _, userdata, mid, _, _ in
            MQTTClient.from(userdata)?.acknowledged(mid: mid)
        }
        mosquitto_publish_callback_set(handle) { _, userdata, mid in
            MQTTClient.from(userdata)?.acknowledged(mid: mid)
        }
        mosquitto_message_callback_set(handle) { _, userdata, message in
            guard let client = MQTTClient.from(userdata), let message = message?.pointee else { return }
            let payload = [UInt8](UnsafeRawBufferPointer(start: message.payload, count: Int(message.payloadlen)))
            let received = MQTTMessage(topic: String(cString: message.topic), payload: payload, qos: message.qos, retain: message.retain)
            if let handler = client.handler { handler(received) } else { client.messageContinuation.yield(received) }
        }
        mosquitto_user_data_set(handle, Unmanaged.passRetained(self).toOpaque())
        state.withLock { $0.retained = true }
    }

    deinit { mosquitto_destroy(handle) }

    private static func from(_ userdata: UnsafeMutableRawPointer?) -> MQTTClient? {
        userdata.map { Unmanaged<MQTTClient>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Connects and waits for the broker's CONNACK; a refusal (bad credentials, 5) throws.
    /// After that, libmosquitto reconnects by itself with backoff; `events` reports each drop
    /// and each new connection, and subscriptions are renewed when the session was lost.
    public func connect() async throws {
        let persistentV5 = configuration.protocolV5 && !configuration.cleanSession
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            state.withLock { $0.connectWaiter = continuation }
            let start: @Sendable () -> Void = { [self] in
                do {
                    if persistentV5 {
                        try connectV5WithSessionExpiry()
                    } else {
                        // The async variant leaves the TCP connect to the network thread.
                        try check(mosquitto_connect_async(handle, configuration.host, Int32(configuration.port), Int32(configuration.keepAliveSeconds)), "mosquitto_connect_async")
                    }
                    try check(mosquitto_loop_start(handle), "mosquitto_loop_start")
                } catch {
                    let waiter = state.withLock { state in
                        defer { state.connectWaiter = nil }
                        return state.connectWaiter
                    }
                    waiter?.resume(throwing: error)
                }
            }
            // libmosquitto 2.0 has no asynchronous v5 connect: the blocking one (TCP connect and
            // CONNECT) runs on a thread of its own, never on the cooperative pool.
            if persistentV5 { Self.spawnThread(start) } else { start() }
        }
    }

    /// CONNECT with a session-expiry property, so a v5 session outlives the connection
    /// (MQTT v5 section 3.1.2.11.2); libmosquitto keeps the properties for its reconnects.
    private func connectV5WithSessionExpiry() throws {
        var properties: OpaquePointer?
        try check(mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), configuration.sessionExpirySeconds), "session expiry property")
        defer { mosquitto_property_free_all(&properties) }
        try check(mosquitto_connect_bind_v5(
            handle, configuration.host, Int32(configuration.port), Int32(configuration.keepAliveSeconds), nil, properties),
            "mosquitto_connect_bind_v5")
    }

    private static func spawnThread(_ body: @escaping @Sendable () -> Void) {
        final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
        var thread = pthread_t()
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, context)
        if rc == 0 { pthread_detach(thread) } else { Unmanaged<Box>.fromOpaque(context).takeRetainedValue().body() }
    }

    /// Subscribes and waits for the SUBACK. The subscription is renewed after a reconnect that
    /// lost the session. A filter `$share/GROUP/topic` (MQTT v5 shared subscription) splits the
    /// messages among the group's clients, so several collectors can share the load.
    public func subscribe(_ filter: String, qos: Int32 = 1) async throws {
        state.withLock { $0.subscriptions[filter] = qos }
        try await awaitAck("SUBSCRIBE") { mid in mosquitto_subscribe(handle, &mid, filter, qos) }
    }

    /// Publishes; with QoS 1 or 2 waits until the broker has acknowledged the message. While
    /// the connection is down it throws at once rather than wait for a reconnect that may never
    /// come (libmosquitto may still send the message once it is back); `send` queues instead.
    public func publish(_ topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) async throws {
        if qos == 0 {
            try check(mosquitto_publish(handle, nil, topic, Int32(payload.count), payload, 0, retain), "mosquitto_publish")
            return
        }
        try await awaitAck("PUBLISH") { mid in mosquitto_publish(handle, &mid, topic, Int32(payload.count), payload, qos, retain) }
    }

    /// Queues a message without waiting for the broker: libmosquitto sends it, and for QoS 1
    /// retries until acknowledged, on its network thread, across reconnections (a QoS 1
    /// message given while the broker is away waits in the queue). For high-rate publishers. Packet ids
    /// have 16 bits: keep fewer than 65,535 messages unacknowledged (await a `publish` now and
    /// then), or an ack cannot be told apart from a later message's with the same id.
    public func send(_ topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) throws {
        // The id is noted under the lock, before the network thread can see its ack, so that the
        // ack is not mistaken for an early one that a later `publish` with the same id awaits.
        let rc = state.withLock { state -> Int32 in
            var mid: Int32 = 0
            let rc = mosquitto_publish(handle, &mid, topic, Int32(payload.count), payload, qos, retain)
            let queued = qos > 0 && Self.queued(rc)
            if queued { state.unawaited.insert(mid) }
            return queued ? MOSQ_ERR_SUCCESS.rawValue : rc
        }
        try check(rc, "mosquitto_publish")
    }

    /// Drops the connection without a DISCONNECT, as a crash or a cut cable would: the broker
    /// publishes the will. libmosquitto then reconnects as after any network failure. For
    /// simulators and tests of what peers do when a client dies.
    public func abortConnection() {
        let socket = mosquitto_socket(handle)
        if socket >= 0 { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    /// Disconnects cleanly, stops the network thread and finishes `messages`. Idempotent; never
    /// call it from inside a callback.
    public func close() {
        let wasOpen = state.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard wasOpen else { return }
        mosquitto_disconnect(handle)
        mosquitto_loop_stop(handle, false)
        messageContinuation.finish()
        eventContinuation.finish()
        let waiters = state.withLock { state in
            defer { state.ackWaiters = [:]; state.connectWaiter = nil }
            return Array(state.ackWaiters.values) + (state.connectWaiter.map { [$0] } ?? [])
        }
        for waiter in waiters { waiter.resume(throwing: MQTTError(operation: "close", code: 0, message: "client closed")) }
        if state.withLock({ state in defer { state.retained = false }; return state.retained }) {
            Unmanaged.passUnretained(self).release()
        }
    }

    /// True when `mosquitto_publish` of a QoS 1 or 2 message returned `rc` with the message in
    /// libmosquitto's outgoing queue: on success, and also while the connection is down
    /// (MOSQ_ERR_NO_CONN), since the library queues such a message before trying to send it and
    /// sends it once it has reconnected. Publishing it again would send it twice.
    private static func queued(_ rc: Int32) -> Bool {
        rc == MOSQ_ERR_SUCCESS.rawValue || rc == MOSQ_ERR_NO_CONN.rawValue
    }

    private func awaitAck(_ operation: String, _ send: (inout Int32) -> Int32) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            // The ack can arrive on the network thread before we register, hence `early`.
            var mid: Int32 = 0
            let rc = state.withLock { state -> Int32 in
                let rc = send(&mid)
                if rc == MOSQ_ERR_SUCCESS.rawValue {
                    if state.early.remove(mid) != nil { return -1 }
                    state.ackWaiters[mid] = continuation
                }
                return rc
            }
            if rc == -1 { continuation.resume() } else if rc != MOSQ_ERR_SUCCESS.rawValue {
                continuation.resume(throwing: MQTTError.library(operation, rc))
            }
        }
    }

    private func connected(rc: Int32, sessionPresent: Bool) {
        let (waiter, renew) = state.withLock { state in
            defer { state.connectWaiter = nil }
            if rc == 0 { state.connections += 1 }
            // A reconnect without the old session has lost its subscriptions: renew them.
            let renew = rc == 0 && state.connections > 1 && !sessionPresent ? state.subscriptions : [:]
            return (state.connectWaiter, renew)
        }
        if rc == 0 {
            eventContinuation.yield(.connected(sessionPresent: sessionPresent))
            for (filter, qos) in renew {
                state.withLock { state in
                    var mid: Int32 = 0
                    if mosquitto_subscribe(handle, &mid, filter, qos) == MOSQ_ERR_SUCCESS.rawValue { state.unawaited.insert(mid) }
                }
            }
            waiter?.resume()
        } else {
            waiter?.resume(throwing: MQTTError(operation: "CONNACK", code: rc, message: String(cString: mosquitto_connack_string(rc))))
        }
    }

    private func acknowledged(mid: Int32) {
        let waiter = state.withLock { state in
            if let waiter = state.ackWaiters.removeValue(forKey: mid) { return waiter as CheckedContinuation<Void, any Error>? }
            if state.unawaited.remove(mid) == nil { state.early.insert(mid) }
            return nil
        }
        waiter?.resume()
    }
}
