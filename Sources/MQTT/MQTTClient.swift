import CMosquitto
import Glibc
import Synchronization

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
    /// Speak MQTT v5 (needed for shared subscriptions in issue-level features); v3.1.1 otherwise.
    public var protocolV5: Bool
    public var keepAliveSeconds: Int

    public init(
        host: String = "127.0.0.1", port: Int = 1883, clientID: String, username: String? = nil, password: String? = nil,
        cleanSession: Bool = true, protocolV5: Bool = true, keepAliveSeconds: Int = 30
    ) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.username = username
        self.password = password
        self.cleanSession = cleanSession
        self.protocolV5 = protocolV5
        self.keepAliveSeconds = keepAliveSeconds
    }
}

/// A message received on a subscription. Topic and payload are copied out of libmosquitto's
/// buffers, which are freed when its callback returns.
public struct MQTTMessage: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int32
    public var retain: Bool
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
    /// Messages from every subscription, in arrival order. Finishes on `close()`.
    public let messages: AsyncStream<MQTTMessage>
    private let messageContinuation: AsyncStream<MQTTMessage>.Continuation
    private let state = Mutex(State())

    private struct State {
        var connectWaiter: CheckedContinuation<Void, any Error>?
        var ackWaiters: [Int32: CheckedContinuation<Void, any Error>] = [:]
        var early: Set<Int32> = []  // acks that arrived before their waiter registered
        var closed = false
        var retained = false
    }

    private static let libraryInit: Int32 = mosquitto_lib_init()

    public init(configuration: MQTTConfiguration) throws {
        try check(Self.libraryInit, "mosquitto_lib_init")
        guard let handle = mosquitto_new(configuration.clientID, configuration.cleanSession, nil) else {
            throw MQTTError(operation: "mosquitto_new", code: errno, message: String(cString: strerror(errno)))
        }
        self.handle = handle
        self.configuration = configuration
        (messages, messageContinuation) = AsyncStream.makeStream(of: MQTTMessage.self, bufferingPolicy: .bufferingNewest(100_000))
        if configuration.protocolV5 {
            try check(mosquitto_int_option(handle, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5), "protocol version")
        }
        if let username = configuration.username {
            try check(mosquitto_username_pw_set(handle, username, configuration.password), "mosquitto_username_pw_set")
        }
        mosquitto_connect_callback_set(handle) { _, userdata, rc in
            MQTTClient.from(userdata)?.connected(rc: rc)
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
            client.messageContinuation.yield(MQTTMessage(
                topic: String(cString: message.topic), payload: payload, qos: message.qos, retain: message.retain))
        }
        mosquitto_user_data_set(handle, Unmanaged.passRetained(self).toOpaque())
        state.withLock { $0.retained = true }
    }

    deinit { mosquitto_destroy(handle) }

    private static func from(_ userdata: UnsafeMutableRawPointer?) -> MQTTClient? {
        userdata.map { Unmanaged<MQTTClient>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Connects and waits for the broker's CONNACK; a refusal (bad credentials, 5) throws.
    public func connect() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            state.withLock { $0.connectWaiter = continuation }
            do {
                // The async variant leaves the TCP connect to the network thread, so this task never blocks.
                try check(mosquitto_connect_async(handle, configuration.host, Int32(configuration.port), Int32(configuration.keepAliveSeconds)), "mosquitto_connect_async")
                try check(mosquitto_loop_start(handle), "mosquitto_loop_start")
            } catch {
                state.withLock { $0.connectWaiter = nil }
                continuation.resume(throwing: error)
            }
        }
    }

    /// Subscribes and waits for the SUBACK.
    public func subscribe(_ filter: String, qos: Int32 = 1) async throws {
        try await awaitAck("SUBSCRIBE") { mid in mosquitto_subscribe(handle, &mid, filter, qos) }
    }

    /// Publishes; with QoS 1 or 2 waits until the broker has acknowledged the message.
    public func publish(_ topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = false) async throws {
        if qos == 0 {
            try check(mosquitto_publish(handle, nil, topic, Int32(payload.count), payload, 0, retain), "mosquitto_publish")
            return
        }
        try await awaitAck("PUBLISH") { mid in mosquitto_publish(handle, &mid, topic, Int32(payload.count), payload, qos, retain) }
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
        let waiters = state.withLock { state in
            defer { state.ackWaiters = [:]; state.connectWaiter = nil }
            return Array(state.ackWaiters.values) + (state.connectWaiter.map { [$0] } ?? [])
        }
        for waiter in waiters { waiter.resume(throwing: MQTTError(operation: "close", code: 0, message: "client closed")) }
        if state.withLock({ state in defer { state.retained = false }; return state.retained }) {
            Unmanaged.passUnretained(self).release()
        }
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

    private func connected(rc: Int32) {
        let waiter = state.withLock { state in
            defer { state.connectWaiter = nil }
            return state.connectWaiter
        }
        if rc == 0 {
            waiter?.resume()
        } else {
            waiter?.resume(throwing: MQTTError(operation: "CONNACK", code: rc, message: String(cString: mosquitto_connack_string(rc))))
        }
    }

    private func acknowledged(mid: Int32) {
        let waiter = state.withLock { state in
            if let waiter = state.ackWaiters.removeValue(forKey: mid) { return waiter as CheckedContinuation<Void, any Error>? }
            state.early.insert(mid)
            return nil
        }
        waiter?.resume()
    }
}
