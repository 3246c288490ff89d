/// X̄-R and X̄-S charts for rational subgroups of equal size n (2 to 25).
///
/// Phase I: x̄̄ ± A2·R̄ with R chart D3·R̄…D4·R̄ and σ = R̄/d2; or x̄̄ ± A3·S̄ with S chart
/// B3·S̄…B4·S̄ and σ = S̄/c4. A known standard (μ, σ) gives μ ± 3σ/√n, an R chart of
/// d2σ within (d2 ∓ 3d3)σ and an S chart of c4σ within (c4 ∓ 3√(1−c4²))σ (Montgomery, chapter 6).
public struct SubgroupChart: Sendable, Equatable {
    public enum Dispersion: String, Sendable {
        case range = "r"
        case standardDeviation = "s"
    }

    public var means: SPCSeries
    public var dispersion: SPCSeries
    /// σ within subgroups: R̄/d2 or S̄/c4 (or the known σ).
    public var sigmaWithin: Double

    public static func compute(
        _ subgroups: [[Double]], dispersion kind: Dispersion, estimation: SPCEstimation = .phaseI(), rules: SPCRuleEvaluator,
        dispersionRules: SPCRuleEvaluator = SPCRuleEvaluator(rules: [.n1])
    ) throws(SPCError) -> SubgroupChart {
        guard let n = subgroups.first?.count else { throw SPCError("there are no subgroups") }
        for (index, subgroup) in subgroups.enumerated() {
            guard subgroup.count == n else {
                throw SPCError("subgroup \(index + 1) has \(subgroup.count) values; every subgroup needs \(n)")
            }
            guard subgroup.allSatisfy(\.isFinite) else { throw SPCError("subgroup \(index + 1) has a value that is not a finite number") }
        }
        let d2 = try SPCConstants.d2(n)
        let d3 = try SPCConstants.d3(n)
        let c4 = try SPCConstants.c4(n)
        let means = subgroups.map { $0.reduce(0, +) / Double(n) }
        let spreads: [Double] = subgroups.indices.map { i in
            switch kind {
            case .range: subgroups[i].max()! - subgroups[i].min()!
            case .standardDeviation: sampleStandardDeviation(subgroups[i], mean: means[i])
            }
        }
        // The dispersion statistic's expected value and sigma, in units of the process sigma.
        let unbias = kind == .range ? d2 : c4
        let spreadSigma = kind == .range ? d3 : (1 - c4 * c4).squareRoot()

        let center: Double
        let sigma: Double
        switch estimation {
        case .known(let knownCenter, let knownSigma):
            guard knownSigma > 0 else { throw SPCError("a known sigma must be positive") }
            (center, sigma) = (knownCenter, knownSigma)
        case .phaseI(let requested, let exclude):
            let k = try PhaseIEstimate.count(requested, available: subgroups.count, minimum: 2, what: "subgroups")
            (center, sigma) = try PhaseIEstimate.run(
                count: k, exclude: exclude,
                estimate: { included throws(SPCError) in
                    let meanBar = included.map { means[$0] }.reduce(0, +) / Double(included.count)
                    let spreadBar = included.map { spreads[$0] }.reduce(0, +) / Double(included.count)
                    return (meanBar, spreadBar / unbias)
                },
                isOutOfControl: { estimate, i in
                    let halfWidth = 3 * estimate.1 / Double(n).squareRoot()
                    let spreadCenter = unbias * estimate.1
                    return abs(means[i] - estimate.0) > halfWidth
                        || spreads[i] > spreadCenter + 3 * spreadSigma * estimate.1
                        || spreads[i] < max(0, spreadCenter - 3 * spreadSigma * estimate.1)
                })
        }
        let halfWidth = 3 * sigma / Double(n).squareRoot()
        let meanSeries = SPCSeries.make(name: "xbar", values: means, center: center, ucl: center + halfWidth, lcl: center - halfWidth, evaluator: rules)
        let spreadCenter = unbias * sigma
        let spreadSeries = SPCSeries.make(
            name: kind.rawValue, values: spreads, center: spreadCenter, ucl: spreadCenter + 3 * spreadSigma * sigma,
            lcl: max(0, spreadCenter - 3 * spreadSigma * sigma), evaluator: dispersionRules)
        return SubgroupChart(means: meanSeries, dispersion: spreadSeries, sigmaWithin: sigma)
    }
}
