/// Phase I estimation shared by the charts: estimate from the first `k` points; with
/// exclusion, drop the points beyond those limits and estimate once more: the "revised control
/// limits" of Montgomery (section 6.2.1; the orange-juice p chart, section 7.2.1). Points
/// beyond the revised limits are reported, not dropped again: trimming until nothing is out
/// narrows the limits round after round until in-control points fall outside.
enum PhaseIEstimate {
    static func run<Estimate>(
        count k: Int, exclude: Bool,
        estimate: ([Int]) throws(SPCError) -> Estimate,
        isOutOfControl: (Estimate, Int) -> Bool
    ) throws(SPCError) -> Estimate {
        let first = try estimate(Array(0..<k))
        guard exclude else { return first }
        let kept = (0..<k).filter { !isOutOfControl(first, $0) }
        guard !kept.isEmpty else { throw SPCError("every phase I point was out of control") }
        return kept.count == k ? first : try estimate(kept)
    }

    /// The number of leading points phase I uses, checked against what there is.
    static func count(_ requested: Int?, available: Int, minimum: Int, what: String) throws(SPCError) -> Int {
        let k = min(requested ?? available, available)
        guard k >= minimum else { throw SPCError("phase I needs at least \(minimum) \(what), got \(k)") }
        return k
    }
}

extension SPCSeries {
    /// A series whose limits vary by point (p and u charts with varying sample sizes); the
    /// series-level limits are those of the average sample.
    static func make(name: String, values: [Double], center: Double, limits: [(ucl: Double, lcl: Double)], nominal: (ucl: Double, lcl: Double), evaluator: SPCRuleEvaluator) -> SPCSeries {
        let centers = Array(repeating: center, count: values.count)
        let signals = evaluator.signals(values: values, center: centers, ucl: limits.map(\.ucl), lcl: limits.map(\.lcl))
        let points = values.indices.map { i in
            SPCPoint(index: i + 1, value: values[i], ucl: limits[i].ucl, lcl: limits[i].lcl, signals: signals[i])
        }
        return SPCSeries(name: name, center: center, ucl: nominal.ucl, lcl: nominal.lcl, points: points)
    }
}
