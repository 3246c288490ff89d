/// A machine entering a state at an instant (milliseconds since 1970, UTC).
public struct StateChange: Sendable, Equatable {
    public var timeMilliseconds: Int64
    public var state: MachineState
    public var reason: String?

    public init(timeMilliseconds: Int64, state: MachineState, reason: String? = nil) {
        self.timeMilliseconds = timeMilliseconds
        self.state = state
        self.reason = reason
    }
}

/// A state interval with milliseconds since 1970; `end` nil while the machine is still in it.
public struct TimelineInterval: Sendable, Equatable {
    public var start: Int64
    public var end: Int64?
    public var state: MachineState
    public var reason: String?

    public init(start: Int64, end: Int64?, state: MachineState, reason: String?) {
        self.start = start
        self.end = end
        self.state = state
        self.reason = reason
    }
}

/// Derives state intervals from state changes, incrementally: a batch of changes extends the
/// machine's open interval rather than recomputing its history.
///
/// - A change to the state and reason the machine is already in extends the interval (a
///   repeated report is not a new interval).
/// - A change at the same instant as the open interval's start replaces it: the last word at
///   an instant wins.
/// - A stop reported without a reason keeps reason nil, so it shows up as unclassified until
///   someone classifies it; a later report of the same stop with a reason fills the reason in.
public enum StateTimeline {
    /// The outcome of applying changes.
    public struct Update: Sendable, Equatable {
        /// What the open interval passed in became: closed at this instant, rewritten (same
        /// start, new state or reason), or left as it was (nil).
        public var previous: TimelineInterval?
        /// New intervals, in time order; the last is open.
        public var added: [TimelineInterval]
    }

    /// Applies `changes` (in any order) after `open`, the machine's open interval. Every change
    /// must be at or after `open.start`; a caller with older changes replays from before them.
    public static func apply(_ changes: [StateChange], after open: TimelineInterval?) -> Update {
        var current = open
        var previous: TimelineInterval?
        var added: [TimelineInterval] = []
        // Stable sort: changes at the same instant keep their arrival order, and the last wins.
        let ordered = changes.enumerated().sorted { ($0.element.timeMilliseconds, $0.offset) < ($1.element.timeMilliseconds, $1.offset) }
        for (_, change) in ordered {
            // `current` is either the original open interval (added empty) or added.last.
            func replaceCurrent(with interval: TimelineInterval) {
                if added.isEmpty { previous = interval } else { added[added.count - 1] = interval }
                current = interval
            }
            guard let open = current else {
                let interval = TimelineInterval(start: change.timeMilliseconds, end: nil, state: change.state, reason: change.reason)
                added.append(interval)
                current = interval
                continue
            }
            if open.state == change.state && (open.reason == change.reason || change.reason == nil) {
                continue
            }
            if open.state == change.state && open.reason == nil {
                // The same stop, now with its reason.
                replaceCurrent(with: TimelineInterval(start: open.start, end: nil, state: open.state, reason: change.reason))
                continue
            }
            if change.timeMilliseconds <= open.start {
                replaceCurrent(with: TimelineInterval(start: open.start, end: nil, state: change.state, reason: change.reason))
                continue
            }
            var closed = open
            closed.end = change.timeMilliseconds
            if added.isEmpty { previous = closed } else { added[added.count - 1] = closed }
            let interval = TimelineInterval(start: change.timeMilliseconds, end: nil, state: change.state, reason: change.reason)
            added.append(interval)
            current = interval
        }
        return Update(previous: previous, added: added)
    }
}
