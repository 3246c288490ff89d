/// Turns a PLC counter's readings into part counts.
///
/// A counter only grows, except when it is reset (a new shift, a power cycle, a Sparkplug
/// rebirth) or rolls over at its width. Each reading yields the parts made since the previous
/// one:
/// - a higher reading: the difference;
/// - a lower reading close to zero after a reading close to the counter's maximum: a rollover,
///   counted through the wrap;
/// - any other lower reading: a reset, counted as the new reading (parts made since the reset)
///   and reported, never hidden, since parts between the last reading and the reset are lost;
/// - a reading older than the last one (redelivered at QoS 1): ignored, so redelivery is idempotent.
public struct CounterTracker: Sendable {
    /// What one reading contributes.
    public struct Step: Sendable, Equatable {
        public var parts: Int64
        public var reset: Bool
        public var rollover: Bool
        /// The reading was not newer than the last one and changed nothing.
        public var ignored: Bool
    }

    /// The counter's largest value before it wraps to 0 (e.g. 2³² − 1), or nil if it never wraps.
    public let maximum: Int64?
    /// How close to the maximum the previous reading must be, and to zero the new one, for a
    /// drop to count as a rollover (a tenth of the range by default).
    public let rolloverMargin: Int64
    public private(set) var last: (timestampMilliseconds: Int64, value: Int64)?

    /// - Parameter last: the last reading seen before (stored between batches), if any.
    public init(maximum: Int64? = Int64(UInt32.max), rolloverMargin: Int64? = nil, last: (timestampMilliseconds: Int64, value: Int64)? = nil) {
        self.maximum = maximum
        self.rolloverMargin = rolloverMargin ?? (maximum.map { $0 / 10 } ?? 0)
        self.last = last
    }

    public mutating func record(value: Int64, timestampMilliseconds: Int64) -> Step {
        guard let previous = last else {
            // The first reading is the baseline: the parts before it belong to earlier windows.
            last = (timestampMilliseconds, value)
            return Step(parts: 0, reset: false, rollover: false, ignored: false)
        }
        guard timestampMilliseconds > previous.timestampMilliseconds else {
            return Step(parts: 0, reset: false, rollover: false, ignored: true)
        }
        last = (timestampMilliseconds, value)
        if value >= previous.value {
            return Step(parts: value - previous.value, reset: false, rollover: false, ignored: false)
        }
        if let maximum, previous.value >= maximum - rolloverMargin, value <= rolloverMargin {
            return Step(parts: maximum - previous.value + 1 + value, reset: false, rollover: true, ignored: false)
        }
        return Step(parts: value, reset: true, rollover: false, ignored: false)
    }

    /// Forgets the last reading, so the next one becomes a new baseline (after a Sparkplug
    /// rebirth or a collector restart, when the gap cannot be trusted).
    public mutating func rebaseline() {
        last = nil
    }
}
