/// One plotted point with the limits it is judged against and the rules it broke. (The center
/// line is the series'; it never varies by point.)
public struct SPCPoint: Sendable, Equatable {
    /// 1-based position in the series.
    public var index: Int
    public var value: Double
    public var ucl: Double
    public var lcl: Double
    public var signals: SPCSignals
}

/// One chart of a pair (e.g. the I chart of I-MR): center line, limits and points.
public struct SPCSeries: Sendable, Equatable {
    /// `i`, `mr`, `xbar`, `r`, `s`, `p`, `np`, `c` or `u`.
    public var name: String
    public var center: Double
    public var ucl: Double
    public var lcl: Double
    public var points: [SPCPoint]
}

/// Where the limits come from.
public enum SPCEstimation: Sendable, Equatable {
    /// Phase I: estimate from the first `subgroups` points (all when nil); with
    /// `excludeOutOfControl`, points beyond the limits are dropped from the estimate and the
    /// limits recomputed until none is.
    case phaseI(subgroups: Int? = nil, excludeOutOfControl: Bool = false)
    /// Phase II with a standard given: the process center and sigma are known.
    case known(center: Double, sigma: Double)
}

extension SPCSeries {
    /// A series with fixed limits, its points judged by `evaluator`; the first point is
    /// numbered `firstIndex`.
    static func make(name: String, values: [Double], center: Double, ucl: Double, lcl: Double, evaluator: SPCRuleEvaluator, firstIndex: Int = 1) -> SPCSeries {
        let signals = evaluator.signals(values: values, center: center, ucl: ucl, lcl: lcl)
        let points = values.indices.map { i in
            SPCPoint(index: i + firstIndex, value: values[i], ucl: ucl, lcl: lcl, signals: signals[i])
        }
        return SPCSeries(name: name, center: center, ucl: ucl, lcl: lcl, points: points)
    }
}
