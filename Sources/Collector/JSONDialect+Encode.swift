import Domain

extension JSONDialect {
    /// The topic and payload a machine publishes for `message`: the inverse of `decode`, used
    /// by `mes simulate` and the tests.
    public static func encode(_ message: MachineMessage) -> (topic: String, payload: [UInt8]) {
        let path = message.path
        var json = #"{"ts":\#(message.timestampMilliseconds)"#
        func field(_ key: String, _ text: String?) {
            guard let text else { return }
            json += ",\"\(key)\":"
            appendQuoted(text, to: &json)
        }
        let kind: String
        switch message.body {
        case .state(let state, let reason):
            kind = "state"
            field("state", state.rawValue)
            field("reason", reason)
        case .count(let counter, let value, let part):
            kind = "count"
            field("counter", counter)
            json += #","value":\#(value)"#
            field("part", part)
        case .measurement(let characteristic, let value, let unit):
            kind = "measurement"
            field("characteristic", characteristic)
            json += #","value":\#(value)"#
            field("unit", unit)
        case .alarm(let code, let text, let active, let severity):
            kind = "alarm"
            field("code", code)
            json += #","active":\#(active)"#
            field("text", text)
            field("severity", severity)
        }
        json += "}"
        return ("mes/\(path.site)/\(path.area)/\(path.line)/\(path.machine)/\(kind)", Array(json.utf8))
    }

    /// A JSON string literal (RFC 8259 section 7).
    static func appendQuoted(_ text: String, to json: inout String) {
        json += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += "\\\""
            case "\\": json += "\\\\"
            case "\n": json += "\\n"
            case "\r": json += "\\r"
            case "\t": json += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: json.unicodeScalars.append(scalar)
            }
        }
        json += "\""
    }
}
