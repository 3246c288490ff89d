import Domain
import Testing

struct SubgroupChartTests {
    static let none = SPCRuleEvaluator(rules: [])
    /// Five subgroups of four, chosen so every statistic is easy to check by hand.
    static let subgroups: [[Double]] = [[9, 10, 11, 10], [10, 12, 10, 8], [11, 11, 9, 9], [8, 10, 12, 10], [10, 9, 11, 10]]

    @Test func xbarR_usesTheTableFactors() throws {
        let chart = try SubgroupChart.compute(Self.subgroups, dispersion: .range, rules: Self.none)
        // Means all 10; ranges 2, 4, 2, 4, 2 → R̄ = 2.8.
        #expect(chart.means.center == 10)
        #expect(abs(chart.means.ucl - (10 + (try SPCConstants.A2(4)) * 2.8)) < 1e-9)
        #expect(abs(chart.dispersion.center - 2.8) < 1e-9)
        #expect(abs(chart.dispersion.ucl - (try SPCConstants.D4(4)) * 2.8) < 1e-9)
        #expect(chart.dispersion.lcl == 0)
        #expect(abs(chart.sigmaWithin - 2.8 / (try SPCConstants.d2(4))) < 1e-12)
    }

    @Test func xbarS_usesTheTableFactors() throws {
        let chart = try SubgroupChart.compute(Self.subgroups, dispersion: .standardDeviation, rules: Self.none)
        let sBar = Self.subgroups.map { group in
            let mean = group.reduce(0, +) / 4
            return (group.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 3).squareRoot()
        }.reduce(0, +) / 5
        #expect(abs(chart.dispersion.center - sBar) < 1e-12)
        #expect(abs(chart.means.ucl - (10 + (try SPCConstants.A3(4)) * sBar)) < 1e-9)
        #expect(abs(chart.dispersion.ucl - (try SPCConstants.B4(4)) * sBar) < 1e-9)
        #expect(chart.dispersion.lcl == 0)
    }

    @Test func knownStandard_givesMuPlusMinusThreeSigmaOverRootN() throws {
        let chart = try SubgroupChart.compute(Self.subgroups, dispersion: .range, estimation: .known(center: 10, sigma: 2), rules: Self.none)
        #expect(chart.means.ucl == 13)
        #expect(chart.means.lcl == 7)
        #expect(abs(chart.dispersion.center - 2 * (try SPCConstants.d2(4))) < 1e-12)
    }

    @Test func unequalSubgroups_areRefusedNamingTheSubgroup() {
        #expect(throws: SPCError("subgroup 2 has 3 values; every subgroup needs 4")) {
            try SubgroupChart.compute([[1, 2, 3, 4], [1, 2, 3]], dispersion: .range, rules: Self.none)
        }
        #expect(throws: SPCError.self) { try SubgroupChart.compute([[1], [2]], dispersion: .range, rules: Self.none) }
    }
}
