import Domain

/// How a site's Sparkplug metrics become machine messages: which group is which site, which
/// device is which machine, and which metric means the state, the counters, the part, the
/// alarm and the measurements. Loaded from JSON (docs/mqtt.md); the defaults fit common edge
/// nodes (`Machine/State`, `Counters/CycleCount`, …) and can be overridden name by name.
public struct SparkplugMapping: Sendable, Equatable, Decodable {
    /// Site code per group id; a group not listed is a site of the same code.
    public var sites: [String: String] = [:]
    /// Area code per group id; by default the group id.
    public var areas: [String: String] = [:]
    /// Machine code per `group/node/device`; by default the device id. The line is the edge node.
    public var machines: [String: String] = [:]
    public var stateMetrics: [String] = ["Machine/State", "State"]
    /// State values (compared in upper case) and what they mean.
    public var stateValues: [String: MachineState] = [
        "RUNNING": .running, "RUN": .running, "EXECUTE": .running, "ACTIVE": .running, "PRODUCING": .running,
        "IDLE": .idle, "READY": .idle, "STARVED": .idle, "BLOCKED": .idle, "WAITING": .idle,
        "STOPPED": .unplannedStop, "DOWN": .unplannedStop, "FAULT": .unplannedStop, "ALARM": .unplannedStop, "ERROR": .unplannedStop,
        "SETUP": .setup, "CHANGEOVER": .setup,
        "PLANNED": .plannedStop, "BREAK": .plannedStop, "MAINTENANCE": .plannedStop,
        "OFFLINE": .offline,
    ]
    public var reasonMetrics: [String] = ["Machine/StopReason", "StopReason"]
    /// Counter metrics and which counter they are: `total`, `good` or `reject`.
    public var counters: [String: String] = [
        "Counters/CycleCount": "total", "CycleCount": "total",
        "Counters/GoodParts": "good", "GoodParts": "good",
        "Counters/RejectParts": "reject", "RejectParts": "reject",
    ]
    public var partMetrics: [String] = ["Program/Name", "Program"]
    public var alarmActiveMetrics: [String] = ["Alarm/Active"]
    public var alarmCodeMetrics: [String] = ["Alarm/Code"]
    public var alarmTextMetrics: [String] = ["Alarm/Text"]
    public var alarmSeverityMetrics: [String] = ["Alarm/Severity"]
    /// Numeric metrics stored as measurements (quality characteristics, e.g. a gauge).
    public var measurements: [String] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case sites, areas, machines, measurements, counters
        case stateMetrics = "state_metrics", stateValues = "state_values", reasonMetrics = "reason_metrics"
        case partMetrics = "part_metrics", alarmActiveMetrics = "alarm_active_metrics"
        case alarmCodeMetrics = "alarm_code_metrics", alarmTextMetrics = "alarm_text_metrics"
        case alarmSeverityMetrics = "alarm_severity_metrics"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = SparkplugMapping()
        sites = try container.decodeIfPresent([String: String].self, forKey: .sites) ?? defaults.sites
        areas = try container.decodeIfPresent([String: String].self, forKey: .areas) ?? defaults.areas
        machines = try container.decodeIfPresent([String: String].self, forKey: .machines) ?? defaults.machines
        stateMetrics = try container.decodeIfPresent([String].self, forKey: .stateMetrics) ?? defaults.stateMetrics
        if let values = try container.decodeIfPresent([String: MachineState].self, forKey: .stateValues) {
            stateValues = Dictionary(uniqueKeysWithValues: values.map { ($0.key.uppercased(), $0.value) })
        }
        reasonMetrics = try container.decodeIfPresent([String].self, forKey: .reasonMetrics) ?? defaults.reasonMetrics
        counters = try container.decodeIfPresent([String: String].self, forKey: .counters) ?? defaults.counters
        for (name, counter) in counters where !["total", "good", "reject"].contains(counter) {
            throw DecodingError.dataCorruptedError(forKey: .counters, in: container, debugDescription: "counter of \(name) is '\(counter)', not total, good or reject")
        }
        partMetrics = try container.decodeIfPresent([String].self, forKey: .partMetrics) ?? defaults.partMetrics
        alarmActiveMetrics = try container.decodeIfPresent([String].self, forKey: .alarmActiveMetrics) ?? defaults.alarmActiveMetrics
        alarmCodeMetrics = try container.decodeIfPresent([String].self, forKey: .alarmCodeMetrics) ?? defaults.alarmCodeMetrics
        alarmTextMetrics = try container.decodeIfPresent([String].self, forKey: .alarmTextMetrics) ?? defaults.alarmTextMetrics
        alarmSeverityMetrics = try container.decodeIfPresent([String].self, forKey: .alarmSeverityMetrics) ?? defaults.alarmSeverityMetrics
        measurements = try container.decodeIfPresent([String].self, forKey: .measurements) ?? defaults.measurements
    }

    func path(group: String, node: String, device: String) -> MachinePath {
        MachinePath(
            site: sites[group] ?? group, area: areas[group] ?? group, line: node,
            machine: machines["\(group)/\(node)/\(device)"] ?? device)
    }
}
