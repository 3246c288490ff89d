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
            // Sums in place (no filtered copies: phase I may hold a million points), and at most
            // one revision, as PhaseIEstimate explains.
            func average(keepValue: (Int) -> Bool, keepRange: (Int) -> Bool) throws(SPCError) -> (center: Double, mrBar: Double) {
                var sum = 0.0, count = 0, rangeSum = 0.0, rangeCount = 0
                for i in 0..<k where keepValue(i) {
                    sum += values[i]
                    count += 1
                }
                for i in 0..<(k - 1) where keepRange(i) {
                    rangeSum += movingRanges[i]
                    rangeCount += 1
                }
                guard count > 0, rangeCount > 0 else { throw SPCError("every phase I point was out of control") }
                return (sum / Double(count), rangeSum / Double(rangeCount))
            }
            var estimate = try average(keepValue: { _ in true }, keepRange: { _ in true })
            if exclude {
                let first = estimate
                let halfWidth = 3 * first.mrBar / d2
                let mrUCL = (1 + 3 * d3 / d2) * first.mrBar
                estimate = try average(
                    keepValue: { abs(values[$0] - first.center) <= halfWidth }, keepRange: { movingRanges[$0] <= mrUCL })
            }
            center = estimate.center
            mrCenter = estimate.mrBar
            sigma = estimate.mrBar / d2
        }

        let individuals = SPCSeries.make(
            name: "i", values: values, center: center, ucl: center + 3 * sigma, lcl: center - 3 * sigma, evaluator: rules)
        // D3(2) is 0, so the MR chart's lower limit is 0 either way.
        let mrUCL = (1 + 3 * d3 / d2) * mrCenter
        // Moving range k spans values k and k+1: it is numbered after the later one, as charts plot it.
        let movingRange = SPCSeries.make(
            name: "mr", values: movingRanges, center: mrCenter, ucl: mrUCL, lcl: 0, evaluator: dispersionRules, firstIndex: 2)
        return IndividualsChart(individuals: individuals, movingRange: movingRange, sigmaWithin: sigma)
    }
}
