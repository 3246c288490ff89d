/// What a machine is doing, as the state model records it.
public enum MachineState: String, Sendable, Codable, CaseIterable {
    case running
    /// Ready but not producing (starved, blocked, waiting for the operator).
    case idle
    /// Stopped by a failure or another unplanned cause; carries a reason once classified.
    case unplannedStop = "unplanned_stop"
    /// Setup or changeover between jobs.
    case setup
    /// A stop the schedule planned: breaks, meetings, planned maintenance, no orders.
    case plannedStop = "planned_stop"
    /// No data from the machine (powered off, network down).
    case offline
}

/// A span of time in one state, `[start, end)` in seconds since 1970 (UTC).
public struct StateInterval: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var state: MachineState
    public var reason: String?

    public init(start: Double, end: Double, state: MachineState, reason: String? = nil) {
        self.start = start
        self.end = end
        self.state = state
        self.reason = reason
    }
}

extension StateInterval {
    /// A stop or idle spell shorter than `threshold` seconds: a small stop, a performance loss
    /// rather than downtime (Nakajima). Judged by the whole interval, never the part a window
    /// or shift boundary cuts off, so a boundary cannot turn a breakdown into a small stop.
    public func isShort(under threshold: Double) -> Bool {
        end - start < threshold
    }
}

/// Parts counted over the window for one part number.
public struct PartCount: Sendable, Equatable {
    public var part: String
    /// Seconds per part at the machine's ideal (nameplate) rate for this part.
    public var idealCycleSeconds: Double
    public var total: Int
    public var reject: Int
    /// Resets of the PLC counter these counts were read from (`CounterTracker`): each may have
    /// lost the parts made between the last reading and the reset, and is flagged.
    public var counterResets: Int

    public init(part: String, idealCycleSeconds: Double, total: Int, reject: Int, counterResets: Int = 0) {
        self.part = part
        self.idealCycleSeconds = idealCycleSeconds
        self.total = total
        self.reject = reject
        self.counterResets = counterResets
    }
}
