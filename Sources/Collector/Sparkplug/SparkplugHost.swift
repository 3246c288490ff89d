#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Services

/// The Sparkplug B host application's state: per edge node, the alias table from its births,
/// the expected sequence number and the birth/death sequence (bdSeq); per device, what its
/// metrics last said. Pure: it turns each MQTT message into machine messages, dead letters
/// and commands to publish, and does no I/O (the collector publishes the commands).
///
/// Rules (Sparkplug 3.0 chapter 5; docs/mqtt.md):
/// - NBIRTH rebuilds the node's alias table and sets the expected seq; DBIRTH adds a device.
/// - A DATA or DBIRTH from a node not born, or a DATA with an unknown alias, asks the node for
///   a rebirth (NCMD `Node Control/Rebirth`), at most once per `rebirthRetryMilliseconds`
///   until the NBIRTH arrives, and is dead-lettered with the reason. Metrics with known
///   aliases in the same message are still used.
/// - A message ahead of the expected seq waits up to `reorderTimeoutMilliseconds` for the
///   missing ones (QoS 0 data may overtake, and a counter read out of order looks like a
///   reset); if they come, all are used in seq order. If not, the node is asked for a rebirth
///   and the held data is used as it is. A message behind the expected seq is used as well.
/// - NDEATH counts only if its bdSeq equals the current NBIRTH's: a late will from an older
///   session is ignored (and dead-lettered, so it can be seen). An accepted NDEATH marks every
///   device of the node offline at the host's receive time; DDEATH marks one device offline at
///   its payload time.
/// - Births report their values: they are real readings, and redelivered ones are idempotent.
public struct SparkplugHost: Sendable {
    public var mapping: SparkplugMapping
    public var rebirthRetryMilliseconds: Int64
    /// How long a gap in a node's seq may stay open for the missing message to arrive (the
    /// spec's Reorder Timeout); 0 turns the window off, so a gap asks for a rebirth at once.
    public var reorderTimeoutMilliseconds: Int64

    /// What one MQTT message produced.
    public struct Output: Sendable, Equatable {
        public var messages: [MachineMessage] = []
        public var deadLetters: [DeadLetter] = []
        /// Messages to publish: rebirth requests.
        public var commands: [(topic: String, payload: [UInt8])] = []

        public var isEmpty: Bool { messages.isEmpty && deadLetters.isEmpty && commands.isEmpty }

        public static func == (lhs: Output, rhs: Output) -> Bool {
            lhs.messages == rhs.messages && lhs.deadLetters == rhs.deadLetters
                && lhs.commands.map(\.topic) == rhs.commands.map(\.topic) && lhs.commands.map(\.payload) == rhs.commands.map(\.payload)
        }
    }

    struct NodeKey: Hashable, Sendable {
        var group: String
        var node: String
    }

    struct Alias: Sendable {
        var device: String?
        var name: String
        var datatype: UInt32?
    }

    struct Device: Sendable {
        var datatypes: [String: UInt32] = [:]
        var part: String?
        var alarmActive = false
        var alarmCode: String?
        var online = true
    }

    /// One decoded edge-node message, as received.
    struct Received: Sendable {
        var type: SparkplugTopic.MessageType
        var device: String?
        var payload: SparkplugPayload
        var topic: String
        var bytes: [UInt8]
        var receivedAt: Int64
    }

    struct Node: Sendable {
        var born = false
        var bdSeq: UInt64?
        var expectedSeq: UInt64 = 0
        var aliases: [UInt64: Alias] = [:]
        var devices: [String: Device] = [:]
        var rebirthRequestedAt: Int64?
        /// Messages that arrived ahead of a gap, by seq, waiting in the reorder window.
        var held: [UInt64: Received] = [:]
        /// When the oldest open gap was noticed.
        var gapSince: Int64?
    }

    var nodes: [NodeKey: Node] = [:]
    /// The nodes whose `gapSince` is set, so that the check on every message looks at those
    /// only (usually none) rather than at every node.
    var gaps: Set<NodeKey> = []

    public init(mapping: SparkplugMapping = SparkplugMapping(), rebirthRetryMilliseconds: Int64 = 5_000, reorderTimeoutMilliseconds: Int64 = 2_000) {
        self.mapping = mapping
        self.rebirthRetryMilliseconds = rebirthRetryMilliseconds
        self.reorderTimeoutMilliseconds = reorderTimeoutMilliseconds
    }

    /// Takes one MQTT message. Messages that arrive ahead of a gap in their node's seq are held
    /// until the missing ones arrive, then all are used in seq order; if the gap is still open
    /// after `reorderTimeoutMilliseconds` (checked here and by `expire`), the node is asked for
    /// a rebirth and what was held is used as it is.
    public mutating func handle(topic: String, payload bytes: [UInt8], receivedAtMilliseconds now: Int64) -> Output {
        var output = expire(atMilliseconds: now)
        let parsed: SparkplugTopic
        let payload: SparkplugPayload
        do {
            parsed = try SparkplugTopic.parse(topic)
            guard case .edge(_, let type, _, _) = parsed, type != .ncmd, type != .dcmd else { return output }
            payload = try SparkplugPayload.decode(bytes)
        } catch {
            output.deadLetters.append(DeadLetter(receivedAt: Self.date(now), topic: topic, payload: bytes, reason: error.reason))
            return output
        }
        guard case .edge(let group, let type, let nodeID, let deviceID) = parsed else { return output }
        let key = NodeKey(group: group, node: nodeID)
        var node = nodes[key] ?? Node()
        defer {
            nodes[key] = node
            if node.gapSince == nil { gaps.remove(key) } else { gaps.insert(key) }
        }
        let message = Received(type: type, device: deviceID, payload: payload, topic: topic, bytes: bytes, receivedAt: now)

        switch type {
        case .nbirth, .ndeath:
            // A new session or the end of this one: what was held belongs before it.
            release(&node, key: key, output: &output)
            apply(message, key: key, to: &node, checkingSequence: false, output: &output)
        case .dbirth, .ndata, .ddata, .ddeath:
            guard node.born, reorderTimeoutMilliseconds > 0, let seq = message.payload.seq else {
                apply(message, key: key, to: &node, checkingSequence: true, output: &output)
                return output
            }
            let ahead = (seq &+ 256 &- node.expectedSeq) % 256
            if ahead == 0 {
                apply(message, key: key, to: &node, checkingSequence: false, output: &output)
                node.expectedSeq = (seq + 1) % 256
                while let next = node.held.removeValue(forKey: node.expectedSeq) {
                    apply(next, key: key, to: &node, checkingSequence: false, output: &output)
                    node.expectedSeq = (node.expectedSeq + 1) % 256
                }
                if node.held.isEmpty { node.gapSince = nil }
            } else if ahead < 128 {
                node.held[seq] = message
                if node.gapSince == nil { node.gapSince = now }
            } else {
                // Behind the expected seq: a straggler after its gap timed out, or a redelivery.
                // Its data is still good (the service layer takes late and repeated events).
                apply(message, key: key, to: &node, checkingSequence: false, output: &output)
            }
        case .ncmd, .dcmd:
            break
        }
        return output
    }

    /// Closes the gaps that have waited `reorderTimeoutMilliseconds`: asks those nodes for a
    /// rebirth and uses what they held. With `all`, closes every gap (at shutdown).
    public mutating func expire(atMilliseconds now: Int64, all: Bool = false) -> Output {
        var output = Output()
        for key in gaps {
            guard var node = nodes[key], let since = node.gapSince, all || now - since >= reorderTimeoutMilliseconds else { continue }
            requestRebirth(&node, key: key, now: now, output: &output)
            release(&node, key: key, output: &output)
            nodes[key] = node
            gaps.remove(key)
        }
        return output
    }

    /// Uses every held message in seq order, as if the gaps between them were not there.
    private func release(_ node: inout Node, key: NodeKey, output: inout Output) {
        guard !node.held.isEmpty else { return }
        let expected = node.expectedSeq
        for seq in node.held.keys.sorted(by: { ($0 &+ 256 &- expected) % 256 < ($1 &+ 256 &- expected) % 256 }) {
            apply(node.held[seq]!, key: key, to: &node, checkingSequence: false, output: &output)
            node.expectedSeq = (seq + 1) % 256
        }
        node.held = [:]
        node.gapSince = nil
    }

    /// Asks the node to send its births again, unless already asked within the retry time.
    private func requestRebirth(_ node: inout Node, key: NodeKey, now: Int64, output: inout Output) {
        if let asked = node.rebirthRequestedAt, now - asked < rebirthRetryMilliseconds { return }
        node.rebirthRequestedAt = now
        output.commands.append((
            "\(SparkplugTopic.namespace)/\(key.group)/NCMD/\(key.node)", SparkplugPayload.rebirthRequest(timestamp: UInt64(max(0, now)))))
    }

    private static func date(_ milliseconds: Int64) -> Date { Date(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// Applies one message to its node's state. With `checkingSequence` (no reorder window), a
    /// missing or unexpected seq asks for a rebirth and the data is used anyway.
    private func apply(_ message: Received, key: NodeKey, to node: inout Node, checkingSequence: Bool, output: inout Output) {
        let (type, deviceID, payload, now) = (message.type, message.device, message.payload, message.receivedAt)
        let (group, nodeID) = (key.group, key.node)
        func deadLetter(_ reason: String) {
            output.deadLetters.append(DeadLetter(receivedAt: Self.date(now), topic: message.topic, payload: message.bytes, reason: reason))
        }
        func requestRebirth() { self.requestRebirth(&node, key: key, now: now, output: &output) }
        func checkSequence() {
            guard checkingSequence else { return }
            guard let seq = payload.seq else { return requestRebirth() }
            if seq != node.expectedSeq { requestRebirth() }
            node.expectedSeq = (seq + 1) % 256
        }

        switch type {
        case .nbirth:
            guard let bdSeq = Self.bdSeq(payload) else {
                deadLetter("NBIRTH without a bdSeq metric")
                requestRebirth()
                return
            }
            node = Node(born: true, bdSeq: bdSeq, expectedSeq: ((payload.seq ?? 0) + 1) % 256)
            for metric in payload.metrics {
                if let alias = metric.alias, let name = metric.name {
                    node.aliases[alias] = Alias(device: nil, name: name, datatype: metric.datatype)
                }
            }
        case .dbirth:
            guard node.born, let deviceID else {
                deadLetter("DBIRTH from edge node \(nodeID), which has not sent its NBIRTH")
                requestRebirth()
                return
            }
            checkSequence()
            var device = Device()
            for metric in payload.metrics {
                guard let name = metric.name else { continue }
                device.datatypes[name] = metric.datatype
                if let alias = metric.alias { node.aliases[alias] = Alias(device: deviceID, name: name, datatype: metric.datatype) }
            }
            node.devices[deviceID] = device
            report(payload, device: deviceID, node: &node, group: group, nodeID: nodeID, now: now, topic: message.topic, bytes: message.bytes, output: &output)
        case .ndata, .ddata:
            guard node.born else {
                deadLetter("\(type.rawValue) from edge node \(nodeID), which has not sent its NBIRTH since the host started: rebirth requested")
                requestRebirth()
                return
            }
            checkSequence()
            if let deviceID, node.devices[deviceID] == nil {
                deadLetter("DDATA from device \(deviceID), which has not sent its DBIRTH: rebirth requested")
                requestRebirth()
                return
            }
            let unknown = payload.metrics.compactMap { metric in metric.name == nil ? metric.alias.flatMap { node.aliases[$0] == nil ? $0 : nil } : nil }
            if !unknown.isEmpty {
                deadLetter("unknown alias\(unknown.count == 1 ? "" : "es") \(unknown.map(String.init).joined(separator: ", ")) (not in the births; the other metrics were used): rebirth requested")
                requestRebirth()
            }
            if let deviceID { report(payload, device: deviceID, node: &node, group: group, nodeID: nodeID, now: now, topic: message.topic, bytes: message.bytes, output: &output) }
        case .ddeath:
            guard node.born, let deviceID else { return }
            checkSequence()
            node.devices[deviceID]?.online = false
            let time = payload.timestamp.map { Int64(clamping: $0) } ?? now
            output.messages.append(MachineMessage(
                path: mapping.path(group: group, node: nodeID, device: deviceID), timestampMilliseconds: time, body: .state(.offline, reason: "device offline")))
        case .ndeath:
            let bdSeq = Self.bdSeq(payload)
            guard node.born, let current = node.bdSeq, bdSeq == current else {
                deadLetter("NDEATH ignored: its bdSeq \(bdSeq.map(String.init) ?? "is missing"), the current NBIRTH's \(node.bdSeq.map(String.init) ?? "none") (a will from an older session)")
                return
            }
            node.born = false
            for (deviceID, device) in node.devices.sorted(by: { $0.key < $1.key }) where device.online {
                node.devices[deviceID]?.online = false
                output.messages.append(MachineMessage(
                    path: mapping.path(group: group, node: nodeID, device: deviceID), timestampMilliseconds: now, body: .state(.offline, reason: "edge node offline")))
            }
        case .ncmd, .dcmd:
            break
        }
    }

    static func bdSeq(_ payload: SparkplugPayload) -> UInt64? {
        guard let metric = payload.metrics.first(where: { $0.name == "bdSeq" }) else { return nil }
        switch metric.value(datatype: UInt32(SparkplugMetric.DataType.int64)) {
        case .int(let value): return UInt64(bitPattern: value)
        case .unsigned(let value): return value
        default: return nil
        }
    }

    /// Turns a device's metrics into machine messages, through the mapping.
    func report(
        _ payload: SparkplugPayload, device deviceID: String, node: inout Node, group: String, nodeID: String, now: Int64,
        topic: String, bytes: [UInt8], output: inout Output
    ) {
        let path = mapping.path(group: group, node: nodeID, device: deviceID)
        var device = node.devices[deviceID] ?? Device()
        defer { node.devices[deviceID] = device }
        device.online = true
        // Resolve names, types and values first: the part and the stop reason apply to the
        // counts and the state in the same payload.
        var values: [(name: String, value: SparkplugValue, time: Int64)] = []
        for metric in payload.metrics {
            let alias = metric.alias.flatMap { node.aliases[$0] }
            guard let name = metric.name ?? alias?.name else { continue }
            guard let value = metric.value(datatype: device.datatypes[name] ?? alias?.datatype) else { continue }
            let time = (metric.timestamp ?? payload.timestamp).map { Int64(clamping: $0) } ?? now
            values.append((name, value, time))
        }
        func text(_ value: SparkplugValue) -> String? {
            switch value {
            case .string(let text): text
            case .int(let number): String(number)
            case .unsigned(let number): String(number)
            default: nil
            }
        }
        if let part = values.last(where: { mapping.partMetrics.contains($0.name) }).flatMap({ text($0.value) }) {
            device.part = part.isEmpty ? nil : part
        }
        var alarmCode = values.last(where: { mapping.alarmCodeMetrics.contains($0.name) }).flatMap { text($0.value) }
        if alarmCode == "-1" || alarmCode == "" { alarmCode = nil }
        func nonEmptyText(_ names: [String]) -> String? {
            values.last(where: { names.contains($0.name) }).flatMap { text($0.value) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        let alarmText = nonEmptyText(mapping.alarmTextMetrics)
        let alarmSeverity = nonEmptyText(mapping.alarmSeverityMetrics)
        let reason = nonEmptyText(mapping.reasonMetrics)

        for (name, value, time) in values {
            if mapping.stateMetrics.contains(name) {
                guard let word = text(value), let state = mapping.stateValues[word.uppercased()] else {
                    output.deadLetters.append(DeadLetter(
                        receivedAt: Date(timeIntervalSince1970: Double(now) / 1000), topic: topic, payload: bytes,
                        reason: "state value '\(text(value) ?? "\(value)")' of \(name) is not in the site's state mapping"))
                    continue
                }
                output.messages.append(MachineMessage(
                    path: path, timestampMilliseconds: time, body: .state(state, reason: state == .running ? nil : reason)))
            } else if let counter = mapping.counters[name], let number = value.number, number >= 0 {
                output.messages.append(MachineMessage(
                    path: path, timestampMilliseconds: time, body: .count(counter: counter, value: Int64(number), part: device.part)))
            } else if mapping.alarmActiveMetrics.contains(name), case .boolean(let active) = value {
                guard active != device.alarmActive else { continue }
                device.alarmActive = active
                let code = active ? (alarmCode ?? "alarm") : (device.alarmCode ?? alarmCode ?? "alarm")
                device.alarmCode = active ? code : nil
                output.messages.append(MachineMessage(
                    path: path, timestampMilliseconds: time, body: .alarm(code: code, text: active ? alarmText : nil, active: active, severity: active ? alarmSeverity : nil)))
            } else if mapping.measurements.contains(name), let number = value.number {
                output.messages.append(MachineMessage(
                    path: path, timestampMilliseconds: time, body: .measurement(characteristic: name, value: number, unit: nil)))
            }
        }
    }
}
