import Domain

/// What Sparkplug B edge nodes publish for a plant's machine messages: one edge node per line
/// (group = site), one device per machine, with the metric names of `SparkplugMapping`'s
/// defaults. Births carry names, aliases, types and current values; DATA carries aliases
/// only; each node keeps its sequence number and bdSeq. Used by `mes simulate --sparkplug`
/// and by the tests, which check that the host turns it back into the same machine messages.
public struct SparkplugEdge: Sendable {
    public struct Message: Sendable, Equatable {
        public var topic: String
        public var payload: [UInt8]
    }

    static let metrics: [(name: String, datatype: UInt64)] = [
        ("Machine/State", SparkplugMetric.DataType.string), ("Machine/StopReason", SparkplugMetric.DataType.string),
        ("Counters/CycleCount", SparkplugMetric.DataType.int64), ("Counters/GoodParts", SparkplugMetric.DataType.int64),
        ("Counters/RejectParts", SparkplugMetric.DataType.int64), ("Program/Name", SparkplugMetric.DataType.string),
        ("Alarm/Active", SparkplugMetric.DataType.boolean), ("Alarm/Code", SparkplugMetric.DataType.string),
        ("Alarm/Text", SparkplugMetric.DataType.string), ("Alarm/Severity", SparkplugMetric.DataType.string),
        ("Gauge/BoreDiameter", SparkplugMetric.DataType.double),
    ]

    static let stateWords: [MachineState: String] = [
        .running: "RUNNING", .idle: "IDLE", .unplannedStop: "STOPPED", .setup: "SETUP", .plannedStop: "PLANNED", .offline: "OFFLINE",
    ]

    struct Node: Sendable {
        var seq: UInt64 = 0
        var devices: [String] = []
    }

    /// Current values per device, for births.
    var values: [String: [String: SparkplugMetric.Raw]] = [:]
    var nodes: [String: Node] = [:]
    var aliases: [String: UInt64] = [:]
    public let bdSeq: UInt64

    public init(bdSeq: UInt64 = 0) {
        self.bdSeq = bdSeq
    }

    /// The node (edge node id) a machine's line becomes, and its topics.
    static func node(_ path: MachinePath) -> String { path.line }
    static func deviceKey(_ path: MachinePath) -> String { "\(path.line)/\(path.machine)" }

    /// The messages for one machine message: births first if its node or device is new.
    public mutating func publish(_ message: MachineMessage) -> [Message] {
        let path = message.path
        var out: [Message] = []
        let nodeID = Self.node(path)
        if nodes[nodeID] == nil {
            nodes[nodeID] = Node()
            out.append(nodeBirth(site: path.site, node: nodeID, timestamp: message.timestampMilliseconds))
        }
        let key = Self.deviceKey(path)
        var changed: [(String, SparkplugMetric.Raw)] = []
        switch message.body {
        case .state(let state, let reason):
            changed.append(("Machine/State", .string(Self.stateWords[state] ?? "OFFLINE")))
            changed.append(("Machine/StopReason", .string(reason ?? "")))
        case .count(let counter, let value, let part):
            if let part, values[key]?["Program/Name"] != .string(part) { changed.append(("Program/Name", .string(part))) }
            let name = counter == "total" ? "Counters/CycleCount" : counter == "good" ? "Counters/GoodParts" : "Counters/RejectParts"
            changed.append((name, .long(UInt64(max(0, value)))))
        case .measurement(_, let value, _):
            changed.append(("Gauge/BoreDiameter", .double(value)))
        case .alarm(let code, let text, let active, let severity):
            changed.append(("Alarm/Code", .string(active ? code : "-1")))
            changed.append(("Alarm/Text", .string(text ?? "")))
            changed.append(("Alarm/Severity", .string(severity ?? "")))
            changed.append(("Alarm/Active", .boolean(active)))
        }
        if values[key] == nil {
            values[key] = Dictionary(uniqueKeysWithValues: changed)
            nodes[nodeID]?.devices.append(path.machine)
            out.append(deviceBirth(path, timestamp: message.timestampMilliseconds))
            return out
        }
        for (name, raw) in changed { values[key]?[name] = raw }
        let metrics = changed.map { name, raw in
            SparkplugMetric(alias: aliases["\(key)/\(name)"], timestamp: UInt64(message.timestampMilliseconds), raw: raw)
        }
        out.append(Message(
            topic: "spBv1.0/\(path.site)/DDATA/\(nodeID)/\(path.machine)",
            payload: SparkplugPayload(timestamp: UInt64(message.timestampMilliseconds), seq: nextSeq(nodeID), metrics: metrics).encoded()))
        return out
    }

    /// The answer to a rebirth request: NBIRTH (seq 0, the same bdSeq) and every DBIRTH.
    public mutating func rebirth(site: String, node nodeID: String, timestamp: Int64) -> [Message] {
        guard let devices = nodes[nodeID]?.devices else { return [] }
        nodes[nodeID]?.seq = 0
        var out = [nodeBirth(site: site, node: nodeID, timestamp: timestamp)]
        for machine in devices {
            out.append(deviceBirth(MachinePath(site: site, area: site, line: nodeID, machine: machine), timestamp: timestamp))
        }
        return out
    }

    /// The will each node registers: NDEATH with its bdSeq.
    public func death(site: String, node nodeID: String) -> Message {
        Message(
            topic: "spBv1.0/\(site)/NDEATH/\(nodeID)",
            payload: SparkplugPayload(timestamp: nil, seq: nil, metrics: [
                SparkplugMetric(name: "bdSeq", datatype: UInt32(SparkplugMetric.DataType.int64), raw: .long(bdSeq)),
            ]).encoded())
    }

    mutating func nextSeq(_ nodeID: String) -> UInt64 {
        let seq = nodes[nodeID]?.seq ?? 0
        nodes[nodeID]?.seq = (seq + 1) % 256
        return seq
    }

    mutating func nodeBirth(site: String, node nodeID: String, timestamp: Int64) -> Message {
        let metrics = [
            SparkplugMetric(name: "bdSeq", timestamp: UInt64(timestamp), datatype: UInt32(SparkplugMetric.DataType.int64), raw: .long(bdSeq)),
            SparkplugMetric(name: "Node Control/Rebirth", timestamp: UInt64(timestamp), datatype: UInt32(SparkplugMetric.DataType.boolean), raw: .boolean(false)),
        ]
        return Message(
            topic: "spBv1.0/\(site)/NBIRTH/\(nodeID)",
            payload: SparkplugPayload(timestamp: UInt64(timestamp), seq: nextSeq(nodeID), metrics: metrics).encoded())
    }

    mutating func deviceBirth(_ path: MachinePath, timestamp: Int64) -> Message {
        let key = Self.deviceKey(path)
        let current = values[key] ?? [:]
        var metrics: [SparkplugMetric] = []
        for (name, datatype) in Self.metrics {
            // Aliases are unique across the whole edge node: device and metric together.
            let aliasKey = "\(key)/\(name)"
            let alias = aliases[aliasKey] ?? UInt64(aliases.count + 1)
            aliases[aliasKey] = alias
            let raw = current[name]
            metrics.append(SparkplugMetric(
                name: name, alias: alias, timestamp: UInt64(timestamp), datatype: UInt32(datatype), isNull: raw == nil, raw: raw))
        }
        return Message(
            topic: "spBv1.0/\(path.site)/DBIRTH/\(Self.node(path))/\(path.machine)",
            payload: SparkplugPayload(timestamp: UInt64(timestamp), seq: nextSeq(Self.node(path)), metrics: metrics).encoded())
    }
}
