/// Where a message came from: the ISA-95 path of its topic.
public struct MachinePath: Sendable, Hashable, Codable {
    public var site: String
    public var area: String
    public var line: String
    public var machine: String

    public init(site: String, area: String, line: String, machine: String) {
        self.site = site
        self.area = area
        self.line = line
        self.machine = machine
    }
}

/// One decoded machine message, whichever dialect it arrived in.
public struct MachineMessage: Sendable, Equatable, Codable {
    public enum Body: Sendable, Equatable, Codable {
        /// The machine entered `state` (with a stop reason when the machine knows one).
        case state(MachineState, reason: String?)
        /// A counter's current reading; the collector turns readings into part counts, across
        /// resets. `counter` is `good`, `reject` or `total`.
        case count(counter: String, value: Int64, part: String?)
        /// A gauge or operator measurement of a quality characteristic.
        case measurement(characteristic: String, value: Double, unit: String?)
        /// An alarm raised (`active`) or cleared.
        case alarm(code: String, text: String?, active: Bool, severity: String?)
    }

    public var path: MachinePath
    /// When the machine says it happened, milliseconds since 1970 (UTC).
    public var timestampMilliseconds: Int64
    public var body: Body

    public init(path: MachinePath, timestampMilliseconds: Int64, body: Body) {
        self.path = path
        self.timestampMilliseconds = timestampMilliseconds
        self.body = body
    }
}
