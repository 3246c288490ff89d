import Domain
import Testing

/// Montgomery, *Introduction to Statistical Quality Control*, 6th ed. (Wiley, 2009), Examples 6.1
/// and 6.3 with Tables 6.3 and 6.4: inside diameters (mm) of forged automobile-engine piston
/// rings, 25 phase I samples of five, then 15 further samples.
///
/// The book reports, rounding as it goes: x̄̄ = 74.001, R̄ = 0.023, X̄ chart 73.988 to 74.014,
/// R chart 0 to 0.049 (Example 6.1); S̄ = 0.0094, S chart 0 to 0.0196, X̄ chart 73.988 to 74.014
/// (Example 6.3); with specifications 74.000 ± 0.05 mm, σ̂ = R̄/d2 = 0.023/2.326 = 0.0099 and
/// Cp = 0.10/(6 × 0.0099) = 1.68 (§6.2.5). Table 6.3 sums to Σx̄ = 1850.029 and ΣR = 0.581.
struct PistonRingExampleTests {
    static let phaseI: [[Double]] = [
        [74.030, 74.002, 74.019, 73.992, 74.008], [73.995, 73.992, 74.001, 74.011, 74.004],
        [73.988, 74.024, 74.021, 74.005, 74.002], [74.002, 73.996, 73.993, 74.015, 74.009],
        [73.992, 74.007, 74.015, 73.989, 74.014], [74.009, 73.994, 73.997, 73.985, 73.993],
        [73.995, 74.006, 73.994, 74.000, 74.005], [73.985, 74.003, 73.993, 74.015, 73.988],
        [74.008, 73.995, 74.009, 74.005, 74.004], [73.998, 74.000, 73.990, 74.007, 73.995],
        [73.994, 73.998, 73.994, 73.995, 73.990], [74.004, 74.000, 74.007, 74.000, 73.996],
        [73.983, 74.002, 73.998, 73.997, 74.012], [74.006, 73.967, 73.994, 74.000, 73.984],
        [74.012, 74.014, 73.998, 73.999, 74.007], [74.000, 73.984, 74.005, 73.998, 73.996],
        [73.994, 74.012, 73.986, 74.005, 74.007], [74.006, 74.010, 74.018, 74.003, 74.000],
        [73.984, 74.002, 74.003, 74.005, 73.997], [74.000, 74.010, 74.013, 74.020, 74.003],
        [73.982, 74.001, 74.015, 74.005, 73.996], [74.004, 73.999, 73.990, 74.006, 74.009],
        [74.010, 73.989, 73.990, 74.009, 74.014], [74.015, 74.008, 73.993, 74.000, 74.010],
        [73.982, 73.984, 73.995, 74.017, 74.013],
    ]
    /// Table 6.4: samples 26 to 40, taken after the limits were set.
    static let phaseII: [[Double]] = [
        [74.012, 74.015, 74.030, 73.986, 74.000], [73.995, 74.010, 73.990, 74.015, 74.001],
        [73.987, 73.999, 73.985, 74.000, 73.990], [74.008, 74.010, 74.003, 73.991, 74.006],
        [74.003, 74.000, 74.001, 73.986, 73.997], [73.994, 74.003, 74.015, 74.020, 74.004],
        [74.008, 74.002, 74.018, 73.995, 74.005], [74.001, 74.004, 73.990, 73.996, 73.998],
        [74.015, 74.000, 74.016, 74.025, 74.000], [74.030, 74.005, 74.000, 74.016, 74.012],
        [74.001, 73.990, 73.995, 74.010, 74.024], [74.015, 74.020, 74.024, 74.005, 74.019],
        [74.035, 74.010, 74.012, 74.015, 74.026], [74.017, 74.013, 74.036, 74.025, 74.026],
        [74.010, 74.005, 74.029, 74.000, 74.020],
    ]
    static let limitsOnly = SPCRuleEvaluator(rules: [.n1])

    /// The book rounds x̄̄ and R̄ (or S̄) to three places before multiplying, so its limits can
    /// differ from the unrounded ones in the third decimal: 74.001 + 0.577 × 0.023 = 74.0143,
    /// against 74.0146 unrounded. Limits are compared to that tolerance; the statistics exactly.
    static let bookRounding = 0.001

    /// `value` rounded to `places` decimals, as the book prints it.
    static func rounded(_ value: Double, _ places: Int) -> Double {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        return (value * scale).rounded() / scale
    }

    @Test func tableSums_matchTheBook() {
        let means = Self.phaseI.map { $0.reduce(0, +) / 5 }
        let ranges = Self.phaseI.map { $0.max()! - $0.min()! }
        #expect(abs(means.reduce(0, +) - 1850.029) < 0.001)
        #expect(abs(ranges.reduce(0, +) - 0.581) < 1e-9)
    }

    @Test func xbarR_example6_1() throws {
        let chart = try SubgroupChart.compute(Self.phaseI, dispersion: .range, rules: Self.limitsOnly)
        #expect(Self.rounded(chart.means.center, 3) == 74.001)
        #expect(Self.rounded(chart.dispersion.center, 3) == 0.023)
        #expect(abs(chart.means.ucl - 74.014) < Self.bookRounding)
        #expect(abs(chart.means.lcl - 73.988) < Self.bookRounding)
        #expect(abs(chart.dispersion.ucl - 0.049) < Self.bookRounding)
        #expect(chart.dispersion.lcl == 0)
        // Both charts show control in phase I (the book adopts the trial limits): no point beyond.
        #expect(chart.means.points.allSatisfy { $0.signals.isEmpty })
        #expect(chart.dispersion.points.allSatisfy { $0.signals.isEmpty })
    }

    @Test func xbarS_example6_3() throws {
        let chart = try SubgroupChart.compute(Self.phaseI, dispersion: .standardDeviation, rules: Self.limitsOnly)
        #expect(Self.rounded(chart.dispersion.center, 4) == 0.0094)
        #expect(Self.rounded(chart.dispersion.ucl, 4) == 0.0196)
        #expect(chart.dispersion.lcl == 0)
        #expect(abs(chart.means.ucl - 74.014) < Self.bookRounding)
        #expect(abs(chart.means.lcl - 73.988) < Self.bookRounding)
    }

    @Test func capability_section6_2_5() throws {
        let chart = try SubgroupChart.compute(Self.phaseI, dispersion: .range, rules: Self.limitsOnly)
        let capability = try ProcessCapability.compute(
            values: Self.phaseI.flatMap { $0 }, sigmaWithin: chart.sigmaWithin, lsl: 73.95, usl: 74.05)
        // The book rounds R̄ to 0.023 and σ̂ to 0.0099 before dividing: Cp = 0.10/0.0594 = 1.68.
        // From the unrounded R̄ = 0.02324, σ̂ = 0.00999 and Cp = 1.668.
        #expect(Self.rounded(Self.rounded(chart.dispersion.center, 3) / 2.326, 4) == 0.0099)
        #expect(Self.rounded(0.10 / (6 * 0.0099), 2) == 1.68)
        let cp = try #require(capability.cp)
        #expect(abs(cp - 0.10 / (6 * 0.02324 / (try SPCConstants.d2(5)))) < 1e-9)
        #expect(Self.rounded(cp, 2) == 1.67)
        // The process sits 0.0012 above nominal, so Cpk is a little below Cp.
        #expect(capability.cpk < cp && capability.cpk > 1.6)
    }

    /// Phase II: the limits from the first 25 samples, frozen, applied to samples 26–40. The
    /// mean drifts upward at the end of Table 6.4: samples 37, 38 and 39 (means 74.0166,
    /// 74.0196 and 74.0234) lie above the upper limit, 40 (74.0128) falls back inside.
    @Test func phaseII_flagsTheUpwardShift() throws {
        let chart = try SubgroupChart.compute(
            Self.phaseI + Self.phaseII, dispersion: .range, estimation: .phaseI(subgroups: 25), rules: Self.limitsOnly)
        #expect(abs(chart.means.ucl - 74.014) < Self.bookRounding)
        let beyond = chart.means.points.filter { $0.signals.contains(.n1) }.map(\.index)
        #expect(beyond == [37, 38, 39])
    }
}
