import Foundation

/// The Mosquitto broker that scripts/test.sh starts (`MES_TEST_MQTT_URL`). Missing, it is a
/// failure, not a skip.
public enum TestMQTT {
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String { "MES_TEST_MQTT_URL is not set: run scripts/test.sh, which starts Mosquitto" }
    }

    /// Host, port, user and password of the test broker, from `mqtt://user:password@host:port`.
    public static func broker() throws -> (host: String, port: Int, user: String, password: String) {
        guard let url = ProcessInfo.processInfo.environment["MES_TEST_MQTT_URL"],
              let components = URLComponents(string: url), let host = components.host, let port = components.port
        else { throw NotConfigured() }
        return (host, port, components.user ?? "", components.password ?? "")
    }
}
