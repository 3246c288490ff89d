import Foundation
import MQTT
import TestSupport
import Testing

/// Round trips through the Mosquitto broker that scripts/test.sh starts (MES_TEST_MQTT_URL).
struct MQTTClientTests {
    static func broker() throws -> (host: String, port: Int, user: String, password: String) {
        try TestMQTT.broker()
    }

    static func configuration(password: String? = nil) throws -> MQTTConfiguration {
        let broker = try broker()
        return MQTTConfiguration(
            host: broker.host, port: broker.port, clientID: "mes-test-\(UUID().uuidString.prefix(8))",
            username: broker.user, password: password ?? broker.password)
    }

    @Test func publishAndSubscribe_roundTripAtQoS1() async throws {
        let client = try MQTTClient(configuration: Self.configuration())
        defer { client.close() }
        try await client.connect()
        let topic = "mes/test/\(UUID().uuidString)/state"
        try await client.subscribe(topic, qos: 1)
        let payload = Array(#"{"state":"running","ts":1795417509000}"#.utf8)
        try await client.publish(topic, payload: payload, qos: 1)
        var messages = client.messages.makeAsyncIterator()
        let received = try #require(await messages.next())
        #expect(received.topic == topic)
        #expect(received.payload == payload)
        #expect(received.qos == 1)
    }

    @Test func wrongPassword_isRefusedByTheBroker() async throws {
        let client = try MQTTClient(configuration: Self.configuration(password: "wrong"))
        defer { client.close() }
        let error = try await #require(throws: MQTTError.self) { try await client.connect() }
        #expect(error.operation == "CONNACK")
        #expect(error.code == 5 || error.code == 135)  // v3.1.1 "not authorised" / v5 "Not authorized"
    }

    @Test func close_finishesTheMessageStream() async throws {
        let client = try MQTTClient(configuration: Self.configuration())
        try await client.connect()
        client.close()
        var messages = client.messages.makeAsyncIterator()
        #expect(await messages.next() == nil)
        client.close()
    }
}
