/// The individuals and moving-range (I-MR) chart, for one measurement at a time.
///
/// Sigma within is MR̄/d2(2) from moving ranges of two (Montgomery, section 6.4). The I chart's
/// limits are x̄ ± 3σ; the MR chart's center is MR̄ with UCL D4(2)·MR̄ and LCL D3(2)·MR̄ = 0.
/// With a known standard, the MR chart's center is d2·σ and its limits (d2 ± 3·d3)·σ.
public struct IndividualsChart: Sendable, Equatable {
    public var individuals: SPCSeries
    public var movingRange: SPCSeries
    /// The short-term sigma the limits use.
    public var sigmaWithin: Double

    /// - Parameters:
    ///   - rules: tests for the I chart.
    ///   - dispersionRules: tests for the MR chart; only N1 by default, since its points are
    ///     correlated and its distribution is skewed, which makes zone rules misleading.
    public static func compute(
        _ values: [Double], estimation: SPCEstimation = .phaseI(), rules: SPCRuleEvaluator,
        dispersionRules: SPCRuleEvaluator = SPCRuleEvaluator(rules: [.n1])
    ) throws(SPCError) -> IndividualsChart {
        guard values.count >= 2 else { throw SPCError("an individuals chart needs at least 2 values, got \(values.count)") }
        guard values.allSatisfy(\.isFinite) else { throw SPCError("the values must be finite numbers") }
        let movingRanges = zip(values.dropFirst(), values).map { abs($0 - $1) }
        let d2 = try SPCConstants.d2(2)
        let d3 = try SPCConstants.d3(2)

        let center: Double
        let sigma: Double
        let mrCenter: Double
        switch estimation {
        case .known(let knownCenter, let knownSigma):
            guard knownSigma > 0 else { throw SPCError("a known sigma must be positive") }
            center = knownCenter
            sigma = knownSigma
            mrCenter = d2 * knownSigma
        case .phaseI(let subgroups, let exclude):
            let k = min(subgroups ?? values.count, values.count)
            guard k >= 2 else { throw SPCError("phase I needs at least 2 values, got \(k)") }
            var includeValue = [Bool](repeating: true, count: k)
            var includeRange = [Bool](repeating: true, count: k - 1)
            var estimate = (center: 0.0, mrBar: 0.0)
            // At most one revision, as PhaseIEstimate explains.
            for _ in 0..<2 {
                let kept = (0..<k).filter { includeValue[$0] }.map { values[$0] }
                let keptRanges = (0..<(k - 1)).filter { includeRange[$0] }.map { movingRanges[$0] }
                guard !kept.isEmpty, !keptRanges.isEmpty else { throw SPCError("every phase I point was out of control") }
                estimate = (kept.reduce(0, +) / Double(kept.count), keptRanges.reduce(0, +) / Double(keptRanges.count))
                guard exclude else { break }
                let halfWidth = 3 * estimate.mrBar / d2
                let mrUCL = (1 + 3 * d3 / d2) * estimate.mrBar
                var changed = false
                for i in 0..<k where includeValue[i] && abs(values[i] - estimate.center) > halfWidth {
                    includeValue[i] = false
                    changed = true
                }
                for i in 0..<(k - 1) where includeRange[i] && movingRanges[i] > mrUCL {
                    includeRange[i] = false
                    changed = true
                }
                if !changed { break }
            }
            center = estimate.center
            mrCenter = estimate.mrBar
            sigma = estimate.mrBar / d2
        }

        let individuals = SPCSeries.make(
            name: "i", values: values, center: center, ucl: center + 3 * sigma, lcl: center - 3 * sigma, evaluator: rules)
        // D3(2) is 0, so the MR chart's lower limit is 0 either way.
        let mrUCL = (1 + 3 * d3 / d2) * mrCenter
        var movingRange = SPCSeries.make(
            name: "mr", values: movingRanges, center: mrCenter, ucl: mrUCL, lcl: 0, evaluator: dispersionRules)
        // Moving range k spans values k and k+1: number it after the later one, as charts plot it.
        movingRange.points = movingRange.points.map { point in
            var point = point
            point.index += 1
            return point
        }
        return IndividualsChart(individuals: individuals, movingRange: movingRange, sigmaWithin: sigma)
    }
}
