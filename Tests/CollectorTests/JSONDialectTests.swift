import Collector
import Domain
import Testing

struct JSONDialectTests {
    static let path = MachinePath(site: "plant1", area: "machining", line: "L2", machine: "M-01")
    static let ts: Int64 = 1_795_417_509_123

    private func decode(_ topic: String, _ json: String) -> Result<MachineMessage, DeadLetterReason> {
        JSONDialect.decode(topic: topic, payload: Array(json.utf8))
    }

    @Test func everyKind_decodes() throws {
        #expect(try decode("mes/plant1/machining/L2/M-01/state", #"{"ts": 1795417509123, "state": "unplanned_stop", "reason": "tool break"}"#).get()
            == MachineMessage(path: Self.path, timestampMilliseconds: Self.ts, body: .state(.unplannedStop, reason: "tool break")))
        #expect(try decode("mes/plant1/machining/L2/M-01/state", #"{"ts": 1795417509123, "state": "running", "reason": null}"#).get().body
            == .state(.running, reason: nil))
        #expect(try decode("mes/plant1/machining/L2/M-01/count", #"{"ts": 1795417509123, "counter": "good", "value": 184467, "part": "P-100"}"#).get().body
            == .count(counter: "good", value: 184_467, part: "P-100"))
        #expect(try decode("mes/plant1/machining/L2/M-01/measurement", #"{"ts": 1795417509123, "characteristic": "bore", "value": 12.0031, "unit": "mm"}"#).get().body
            == .measurement(characteristic: "bore", value: 12.0031, unit: "mm"))
        #expect(try decode("mes/plant1/machining/L2/M-01/alarm", #"{"ts": 1795417509123, "code": "E42", "text": "Coolant low", "active": true}"#).get().body
            == .alarm(code: "E42", text: "Coolant low", active: true, severity: nil))
    }

    static let deadLetters: [(String, String, String)] = [
        ("mes/plant1/L2/M-01/state", "{}", "topic is not mes/<site>/<area>/<line>/<machine>/<kind>"),
        ("factory/plant1/machining/L2/M-01/state", "{}", "topic is not mes/<site>/<area>/<line>/<machine>/<kind>"),
        ("mes/plant1/machining/L 2/M-01/state", "{}", "site, area, line and machine must be codes of letters, digits, '.', '_' or '-'"),
        ("mes/plant1/machining/L2/M-01/temperature", #"{"ts": 1795417509123}"#, "kind 'temperature' is not state, count, measurement or alarm"),
        ("mes/plant1/machining/L2/M-01/state", "not json", "payload is not valid JSON"),
        ("mes/plant1/machining/L2/M-01/state", "[1, 2]", "payload is not a JSON object"),
        ("mes/plant1/machining/L2/M-01/state", #"{"state": "running"}"#, "ts must be a number"),
        ("mes/plant1/machining/L2/M-01/state", #"{"ts": 1795417509, "state": "running"}"#, "ts 1795417509 is not milliseconds since 1970 (seconds sent by mistake?)"),
        ("mes/plant1/machining/L2/M-01/state", #"{"ts": 1795417509123.5, "state": "running"}"#, "ts must be a whole number"),
        ("mes/plant1/machining/L2/M-01/state", #"{"ts": 1795417509123, "state": "sleeping"}"#, "state 'sleeping' is not one of running, idle, unplanned_stop, setup, planned_stop, offline"),
        ("mes/plant1/machining/L2/M-01/state", #"{"ts": 1795417509123, "state": "idle", "reason": 7}"#, "reason must be a string"),
        ("mes/plant1/machining/L2/M-01/count", #"{"ts": 1795417509123, "counter": "good", "value": -3}"#, "counter value -3 is negative"),
        ("mes/plant1/machining/L2/M-01/count", #"{"ts": 1795417509123, "counter": "scrap", "value": 3}"#, "counter 'scrap' is not good, reject or total"),
        ("mes/plant1/machining/L2/M-01/measurement", #"{"ts": 1795417509123, "characteristic": "bore", "value": "12.0"}"#, "value must be a number"),
        ("mes/plant1/machining/L2/M-01/alarm", #"{"ts": 1795417509123, "code": "E42", "active": "yes"}"#, "active must be true or false"),
    ]

    @Test(arguments: deadLetters)
    func unusableMessages_getAPreciseDeadLetterReason(topic: String, payload: String, reason: String) {
        guard case .failure(let deadLetter) = decode(topic, payload) else { Issue.record("accepted: \(topic)"); return }
        #expect(deadLetter.reason == reason)
    }

    @Test func oversizedPayloads_areRefusedBeforeParsing() {
        let big = "{\"ts\": 1795417509123, \"pad\": \"" + String(repeating: "x", count: 70_000) + "\"}"
        guard case .failure(let deadLetter) = decode("mes/p/a/l/m/state", big) else { Issue.record("accepted"); return }
        #expect(deadLetter.reason.contains("over the 65536-byte limit"))
    }

    @Test func everyTruncatedPayload_isADeadLetterNotACrash() {
        let payload = Array(#"{"ts": 1795417509123, "state": "setup", "reason": "changeover to P-200"}"#.utf8)
        for length in 0..<payload.count {
            if case .success = JSONDialect.decode(topic: "mes/p/a/l/m/state", payload: Array(payload[0..<length])) {
                Issue.record("prefix of \(length) bytes accepted")
            }
        }
    }
}
