#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import JSON

/// The plain JSON dialect: topics `mes/<site>/<area>/<line>/<machine>/<kind>` with a JSON
/// object as payload. Schemas in docs/mqtt.md.
public enum JSONDialect {
    /// The topic filter a collector subscribes to.
    public static let topicFilter = "mes/+/+/+/+/+"

    /// Payloads larger than this are refused (a gauge reading is a few hundred bytes).
    public static let maxPayloadBytes = 64 * 1024

    /// Timestamps before 2001-09-09 in milliseconds (10^12) are refused: they are almost always
    /// seconds sent where milliseconds belong, and would land in 1970.
    static let earliestMilliseconds: Int64 = 1_000_000_000_000

    /// Decodes one message, or says exactly why it cannot be.
    public static func decode(topic: String, payload: [UInt8]) -> Result<MachineMessage, DeadLetterReason> {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false)
        guard levels.count == 6, levels[0] == "mes" else {
            return .failure(DeadLetterReason("topic is not mes/<site>/<area>/<line>/<machine>/<kind>"))
        }
        guard levels[1...4].allSatisfy(isCode) else {
            return .failure(DeadLetterReason("site, area, line and machine must be codes of letters, digits, '.', '_' or '-'"))
        }
        let path = MachinePath(site: String(levels[1]), area: String(levels[2]), line: String(levels[3]), machine: String(levels[4]))
        guard payload.count <= maxPayloadBytes else {
            return .failure(DeadLetterReason("payload of \(payload.count) bytes is over the \(maxPayloadBytes)-byte limit"))
        }
        let object: [String: JSONValue]
        if let flat = FlatJSONObject.parse(payload) {
            object = flat
        } else {
            do {
                guard case .object(let decoded) = try JSONDecoder().decode(JSONValue.self, from: Data(payload)) else {
                    return .failure(DeadLetterReason("payload is not a JSON object"))
                }
                object = decoded
            } catch {
                return .failure(DeadLetterReason("payload is not valid JSON"))
            }
        }
        do {
            let timestamp = try integer(object, "ts")
            guard timestamp >= earliestMilliseconds else {
                return .failure(DeadLetterReason("ts \(timestamp) is not milliseconds since 1970 (seconds sent by mistake?)"))
            }
            let body: MachineMessage.Body
            switch levels[5] {
            case "state":
                let name = try string(object, "state")
                guard let state = MachineState(rawValue: name) else {
                    throw DeadLetterReason("state '\(name.prefix(40))' is not one of \(MachineState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                body = .state(state, reason: try optionalString(object, "reason"))
            case "count":
                let counter = try string(object, "counter")
                guard ["good", "reject", "total"].contains(counter) else {
                    throw DeadLetterReason("counter '\(counter.prefix(40))' is not good, reject or total")
                }
                let value = try integer(object, "value")
                guard value >= 0 else { throw DeadLetterReason("counter value \(value) is negative") }
                body = .count(counter: counter, value: value, part: try optionalString(object, "part"))
            case "measurement":
                body = .measurement(
                    characteristic: try string(object, "characteristic"), value: try number(object, "value"),
                    unit: try optionalString(object, "unit"))
            case "alarm":
                guard case .bool(let active)? = object["active"] else { throw DeadLetterReason("active must be true or false") }
                body = .alarm(
                    code: try string(object, "code"), text: try optionalString(object, "text"), active: active,
                    severity: try optionalString(object, "severity"))
            default:
                return .failure(DeadLetterReason("kind '\(levels[5].prefix(40))' is not state, count, measurement or alarm"))
            }
            return .success(MachineMessage(path: path, timestampMilliseconds: timestamp, body: body))
        } catch let reason as DeadLetterReason {
            return .failure(reason)
        } catch {
            return .failure(DeadLetterReason("\(error)"))
        }
    }

    private static func isCode(_ level: Substring) -> Bool {
        !level.isEmpty && level.count <= 64 && level.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }

    private static func string(_ object: [String: JSONValue], _ key: String) throws -> String {
        guard case .string(let value)? = object[key], !value.isEmpty else { throw DeadLetterReason("\(key) must be a non-empty string") }
        return value
    }

    private static func optionalString(_ object: [String: JSONValue], _ key: String) throws -> String? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let value)?: return value
        default: throw DeadLetterReason("\(key) must be a string")
        }
    }

    private static func number(_ object: [String: JSONValue], _ key: String) throws -> Double {
        guard case .number(let value)? = object[key], value.isFinite else { throw DeadLetterReason("\(key) must be a number") }
        return value
    }

    private static func integer(_ object: [String: JSONValue], _ key: String) throws -> Int64 {
        let value = try number(object, key)
        guard value == value.rounded(), abs(value) < 9e15 else { throw DeadLetterReason("\(key) must be a whole number") }
        return Int64(value)
    }
}
