import CMosquitto

/// A failure reported by libmosquitto or the broker.
public struct MQTTError: Error, Sendable, CustomStringConvertible {
    /// The libmosquitto call or protocol step that failed, e.g. `mosquitto_connect` or `CONNACK`.
    public var operation: String
    /// libmosquitto's return code, or the broker's reason code for CONNACK.
    public var code: Int32
    public var message: String

    public init(operation: String, code: Int32, message: String) {
        self.operation = operation
        self.code = code
        self.message = message
    }

    /// Wraps a libmosquitto return code with the library's own text.
    static func library(_ operation: String, _ rc: Int32) -> MQTTError {
        MQTTError(operation: operation, code: rc, message: String(cString: mosquitto_strerror(rc)))
    }

    public var description: String { "MQTT \(operation) failed (\(code)): \(message)" }
}

/// Checks a libmosquitto return code: the one choke point every call goes through.
func check(_ rc: Int32, _ operation: String) throws {
    guard rc == MOSQ_ERR_SUCCESS.rawValue else { throw MQTTError.library(operation, rc) }
}
