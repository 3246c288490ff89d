/// Applies special-cause tests to the points of one chart.
public struct SPCRuleEvaluator: Sendable {
    public var rules: [SPCRule]
    /// Points in a row on one side that make a run (N2, WE4): 8 or 9.
    public var runLength: Int

    public init(rules: [SPCRule], runLength: Int = 9) {
        self.rules = rules
        self.runLength = runLength
    }

    /// The rules that fire at each point. `center`, `ucl` and `lcl` are per point so that
    /// charts with varying limits (p, u) are judged against their own limits; a point's sigma
    /// is (UCL − center)/3.
    ///
    /// One pass with running counters, so the cost per point does not depend on the run
    /// lengths: a million points take a few milliseconds per rule.
    public func signals(values: [Double], center: [Double], ucl: [Double], lcl: [Double]) -> [SPCSignals] {
        signals(values: values) { (center[$0], ucl[$0], lcl[$0]) }
    }

    /// The same for limits that do not change from point to point.
    public func signals(values: [Double], center: Double, ucl: Double, lcl: Double) -> [SPCSignals] {
        signals(values: values) { _ in (center, ucl, lcl) }
    }

    private func signals(values: [Double], limits: (Int) -> (center: Double, ucl: Double, lcl: Double)) -> [SPCSignals] {
        var result = [SPCSignals](repeating: [], count: values.count)
        guard !rules.isEmpty else { return result }
        let flags = rules.map { SPCSignals($0) }
        // Limits-only rule sets (the default for R, S and MR charts) need no run counters.
        if rules.allSatisfy({ !$0.isZoneRule }) {
            let flag = flags.reduce(SPCSignals()) { $0.union($1) }
            for i in values.indices {
                let (_, ucl, lcl) = limits(i)
                if values[i] > ucl || values[i] < lcl { result[i] = flag }
            }
            return result
        }
        var state = RunState()
        for i in values.indices {
            let (center, ucl, lcl) = limits(i)
            let sigma = (ucl - center) / 3
            let z = sigma > 0 ? (values[i] - center) / sigma : 0
            state.advance(z: z, difference: i > 0 ? values[i] - values[i - 1] : nil)
            for (rule, flag) in zip(rules, flags) where state.fires(rule, runLength: runLength, value: values[i], ucl: ucl, lcl: lcl) {
                result[i].insert(flag)
            }
        }
        return result
    }
}

/// Counters describing the points up to the current one, updated once per point.
private struct RunState {
    var above = 0, below = 0              // points in a row on one side of the center
    var rising = 0, falling = 0           // differences in a row of one sign
    var flips = 0                         // consecutive sign changes between nonzero differences
    var hugging = 0, avoiding = 0         // points in a row within / beyond 1 sigma
    var lastDifference: Double?
    var beyond2Up: UInt8 = 0, beyond2Down: UInt8 = 0  // last 3 points beyond ±2σ, as bit masks
    var beyond1Up: UInt8 = 0, beyond1Down: UInt8 = 0  // last 5 points beyond ±1σ
    var seen = 0

    mutating func advance(z: Double, difference: Double?) {
        seen += 1
        above = z > 0 ? above + 1 : 0
        below = z < 0 ? below + 1 : 0
        hugging = abs(z) < 1 ? hugging + 1 : 0
        avoiding = abs(z) > 1 ? avoiding + 1 : 0
        beyond2Up = (beyond2Up << 1 | (z > 2 ? 1 : 0)) & 0b111
        beyond2Down = (beyond2Down << 1 | (z < -2 ? 1 : 0)) & 0b111
        beyond1Up = (beyond1Up << 1 | (z > 1 ? 1 : 0)) & 0b11111
        beyond1Down = (beyond1Down << 1 | (z < -1 ? 1 : 0)) & 0b11111
        if let difference {
            rising = difference > 0 ? rising + 1 : 0
            falling = difference < 0 ? falling + 1 : 0
            if let last = lastDifference, last != 0, difference != 0, (last > 0) != (difference > 0) {
                flips += 1
            } else {
                flips = 0
            }
            lastDifference = difference
        }
    }

    func fires(_ rule: SPCRule, runLength: Int, value: Double, ucl: Double, lcl: Double) -> Bool {
        switch rule {
        case .n1, .we1:
            return value > ucl || value < lcl
        case .n2, .we4:
            return above >= runLength || below >= runLength
        case .n3:
            // Six points steadily rising or falling: five differences of one sign.
            return rising >= 5 || falling >= 5
        case .n4:
            // Fourteen points alternating: thirteen nonzero differences, twelve sign changes.
            return flips >= 12
        case .n5, .we2:
            // Two of the last three beyond 2σ on one side, the current point among them, so
            // each pattern is reported once, where it completes.
            return seen >= 3 && (Self.completes(beyond2Up, atLeast: 2) || Self.completes(beyond2Down, atLeast: 2))
        case .n6, .we3:
            return seen >= 5 && (Self.completes(beyond1Up, atLeast: 4) || Self.completes(beyond1Down, atLeast: 4))
        case .n7:
            return hugging >= 15
        case .n8:
            return avoiding >= 8
        }
    }

    private static func completes(_ mask: UInt8, atLeast count: Int) -> Bool {
        mask & 1 == 1 && mask.nonzeroBitCount >= count
    }
}
