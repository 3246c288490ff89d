/// Charts for counted data (Montgomery, chapter 7):
/// - p: fraction nonconforming, p̄ ± 3√(p̄(1−p̄)/nᵢ), limits per point when sizes vary;
/// - np: number nonconforming, constant n, np̄ ± 3√(np̄(1−p̄));
/// - c: nonconformities per unit of constant size, c̄ ± 3√c̄;
/// - u: nonconformities per unit with varying units, ū ± 3√(ū/nᵢ).
/// Lower limits below 0 are 0; p limits above 1 are 1. With a known standard, `center` is
/// p, c or u (the sigma of `.known` is not used: it follows from the distribution).
public enum AttributeChart {
    /// A p chart from defectives and sample sizes.
    public static func p(defectives: [Int], sampleSizes: [Int], estimation: SPCEstimation = .phaseI(), rules: SPCRuleEvaluator) throws(SPCError) -> SPCSeries {
        try checkCounts(defectives, sizes: sampleSizes, what: "defectives")
        let values = zip(defectives, sampleSizes).map { Double($0) / Double($1) }
        let pBar = try center(estimation, count: values.count, values: values, weights: sampleSizes.map(Double.init)) { pBar, i in
            abs(values[i] - pBar) > 3 * (pBar * (1 - pBar) / Double(sampleSizes[i])).squareRoot()
        }
        guard pBar >= 0, pBar <= 1 else { throw SPCError("a fraction nonconforming must be between 0 and 1") }
        let limits = sampleSizes.map { n in limitsAround(pBar, width: 3 * (pBar * (1 - pBar) / Double(n)).squareRoot(), cap: 1) }
        let averageSize = Double(sampleSizes.reduce(0, +)) / Double(sampleSizes.count)
        let nominal = limitsAround(pBar, width: 3 * (pBar * (1 - pBar) / averageSize).squareRoot(), cap: 1)
        return .make(name: "p", values: values, center: pBar, limits: limits, nominal: nominal, evaluator: rules)
    }

    /// An np chart from defectives in samples of one size.
    public static func np(defectives: [Int], sampleSizes: [Int], estimation: SPCEstimation = .phaseI(), rules: SPCRuleEvaluator) throws(SPCError) -> SPCSeries {
        try checkCounts(defectives, sizes: sampleSizes, what: "defectives")
        guard let n = sampleSizes.first, sampleSizes.allSatisfy({ $0 == n }) else {
            throw SPCError("an np chart needs one sample size for every row; use a p chart for varying sizes")
        }
        let fractions = defectives.map { Double($0) / Double(n) }
        let pBar = try center(estimation, count: fractions.count, values: fractions, weights: nil) { pBar, i in
            abs(fractions[i] - pBar) > 3 * (pBar * (1 - pBar) / Double(n)).squareRoot()
        }
        let center = Double(n) * pBar
        let limits = limitsAround(center, width: 3 * (center * (1 - pBar)).squareRoot(), cap: Double(n))
        return .make(name: "np", values: defectives.map(Double.init), center: center, ucl: limits.ucl, lcl: limits.lcl, evaluator: rules)
    }

    /// A c chart from nonconformity counts per inspection unit.
    public static func c(defects: [Int], estimation: SPCEstimation = .phaseI(), rules: SPCRuleEvaluator) throws(SPCError) -> SPCSeries {
        try checkCounts(defects, sizes: nil, what: "defects")
        let values = defects.map(Double.init)
        let cBar = try center(estimation, count: values.count, values: values, weights: nil) { cBar, i in
            abs(values[i] - cBar) > 3 * cBar.squareRoot()
        }
        let limits = limitsAround(cBar, width: 3 * cBar.squareRoot(), cap: .infinity)
        return .make(name: "c", values: values, center: cBar, ucl: limits.ucl, lcl: limits.lcl, evaluator: rules)
    }

    /// A u chart from nonconformity counts and the number of units inspected each time.
    public static func u(defects: [Int], units: [Double], estimation: SPCEstimation = .phaseI(), rules: SPCRuleEvaluator) throws(SPCError) -> SPCSeries {
        try checkCounts(defects, sizes: nil, what: "defects")
        guard units.count == defects.count else { throw SPCError("every row needs a number of units") }
        for (index, unit) in units.enumerated() where !(unit > 0 && unit.isFinite) {
            throw SPCError("row \(index + 1): the number of units must be positive")
        }
        let values = zip(defects, units).map { Double($0) / $1 }
        let uBar = try center(estimation, count: values.count, values: values, weights: units) { uBar, i in
            abs(values[i] - uBar) > 3 * (uBar / units[i]).squareRoot()
        }
        let limits = units.map { limitsAround(uBar, width: 3 * (uBar / $0).squareRoot(), cap: .infinity) }
        let averageUnits = units.reduce(0, +) / Double(units.count)
        let nominal = limitsAround(uBar, width: 3 * (uBar / averageUnits).squareRoot(), cap: .infinity)
        return .make(name: "u", values: values, center: uBar, limits: limits, nominal: nominal, evaluator: rules)
    }

    /// The center line: known, or the (weighted) phase I average.
    private static func center(
        _ estimation: SPCEstimation, count: Int, values: [Double], weights: [Double]?, isOutOfControl: (Double, Int) -> Bool
    ) throws(SPCError) -> Double {
        switch estimation {
        case .known(let center, _):
            guard center >= 0 else { throw SPCError("a known center of a count chart cannot be negative") }
            return center
        case .phaseI(let requested, let exclude):
            let k = try PhaseIEstimate.count(requested, available: count, minimum: 2, what: "samples")
            return try PhaseIEstimate.run(
                count: k, exclude: exclude,
                estimate: { included throws(SPCError) in
                    // Σdefectives / Σsize is the size-weighted average of the fractions.
                    let weight = weights ?? Array(repeating: 1, count: count)
                    let total = included.reduce(0.0) { $0 + values[$1] * weight[$1] }
                    return total / included.reduce(0.0) { $0 + weight[$1] }
                },
                isOutOfControl: isOutOfControl)
        }
    }

    private static func limitsAround(_ center: Double, width: Double, cap: Double) -> (ucl: Double, lcl: Double) {
        (min(cap, center + width), max(0, center - width))
    }

    private static func checkCounts(_ counts: [Int], sizes: [Int]?, what: String) throws(SPCError) {
        guard !counts.isEmpty else { throw SPCError("there are no samples") }
        for (index, count) in counts.enumerated() where count < 0 {
            throw SPCError("row \(index + 1): \(what) cannot be negative (\(count))")
        }
        guard let sizes else { return }
        guard sizes.count == counts.count else { throw SPCError("every row needs a sample size") }
        for index in counts.indices {
            guard sizes[index] > 0 else { throw SPCError("row \(index + 1): the sample size must be positive") }
            guard counts[index] <= sizes[index] else {
                throw SPCError("row \(index + 1): \(counts[index]) \(what) in a sample of \(sizes[index])")
            }
        }
    }
}
