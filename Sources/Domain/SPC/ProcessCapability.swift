/// Process capability against specification limits (AIAG SPC manual; Montgomery, chapter 8).
///
/// Cp and Cpk use the short-term sigma within subgroups (from R̄/d2, S̄/c4 or MR̄/d2); Pp and
/// Ppk use the overall sample standard deviation. With one limit only, Cp and Pp are undefined
/// and Cpk/Ppk are the one-sided indices (CPU or CPL).
public struct ProcessCapability: Sendable, Equatable {
    public var cp: Double?
    public var cpk: Double
    public var pp: Double?
    public var ppk: Double

    public static func compute(values: [Double], sigmaWithin: Double, lsl: Double?, usl: Double?) throws(SPCError) -> ProcessCapability {
        guard lsl != nil || usl != nil else { throw SPCError("capability needs at least one specification limit") }
        if let lsl, let usl, lsl >= usl { throw SPCError("the lower specification limit must be below the upper one") }
        guard values.count >= 2 else { throw SPCError("capability needs at least 2 values") }
        guard sigmaWithin > 0 else { throw SPCError("the within-subgroup sigma is zero: capability is undefined") }
        let mean = values.reduce(0, +) / Double(values.count)
        let sigmaOverall = sampleStandardDeviation(values, mean: mean)
        guard sigmaOverall > 0 else { throw SPCError("the values do not vary: capability is undefined") }
        func potential(_ sigma: Double) -> Double? {
            guard let lsl, let usl else { return nil }
            return (usl - lsl) / (6 * sigma)
        }
        func centered(_ sigma: Double) -> Double {
            let upper = usl.map { ($0 - mean) / (3 * sigma) } ?? .infinity
            let lower = lsl.map { (mean - $0) / (3 * sigma) } ?? .infinity
            return min(upper, lower)
        }
        return ProcessCapability(
            cp: potential(sigmaWithin), cpk: centered(sigmaWithin), pp: potential(sigmaOverall), ppk: centered(sigmaOverall))
    }
}
