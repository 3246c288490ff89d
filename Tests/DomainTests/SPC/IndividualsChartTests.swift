import Domain
import Testing

struct IndividualsChartTests {
    /// Average weekly cost of processing mortgage loan applications over 20 weeks:
    /// Montgomery, *Introduction to Statistical Quality Control*, 6th ed. (Wiley, 2009),
    /// section 6.4 "Control charts for individual measurements", the loan-processing example:
    /// x̄ = 300.5, MR̄ = 7.79, I chart limits 279.78 and 321.22, MR chart UCL 25.45; in control.
    static let loanCosts: [Double] = [
        310, 288, 297, 298, 307, 303, 294, 297, 308, 306, 294, 299, 297, 299, 314, 295, 293, 306, 301, 304,
    ]

    @Test func imr_reproducesMontgomerysLoanCostExample() throws {
        let chart = try IndividualsChart.compute(Self.loanCosts, rules: SPCRuleEvaluator(rules: [.n1]))
        #expect(abs(chart.individuals.center - 300.5) < 0.005)
        #expect(abs(chart.movingRange.center - 7.79) < 0.005)
        // The book rounds MR̄ to 7.79 and d2 to 1.128 before computing the limits, which moves
        // them by 0.01; unrounded, they are 321.2097 and 279.7903.
        #expect(abs(chart.individuals.ucl - 321.22) < 0.02)
        #expect(abs(chart.individuals.lcl - 279.78) < 0.02)
        #expect(abs(chart.individuals.ucl - 321.2097) < 0.0001)
        #expect(abs(chart.movingRange.ucl - 25.45) < 0.01)
        #expect(chart.movingRange.lcl == 0)
        #expect(chart.individuals.points.allSatisfy { $0.signals.isEmpty }, "the book finds the process in control")
        #expect(chart.movingRange.points.count == 19)
        #expect(chart.movingRange.points.first?.index == 2)
    }

    @Test func phaseII_judgesNewPointsAgainstFrozenLimits() throws {
        let shifted = Self.loanCosts + [330, 300]
        let chart = try IndividualsChart.compute(shifted, estimation: .phaseI(subgroups: 20), rules: SPCRuleEvaluator(rules: [.n1]))
        #expect(abs(chart.individuals.center - 300.5) < 0.005, "only the first 20 points set the limits")
        #expect(chart.individuals.points[20].signals == [.n1])
        #expect(chart.individuals.points[21].signals.isEmpty)
    }

    @Test func phaseI_canExcludeOutOfControlPointsFromTheEstimate() throws {
        let withOutlier = Self.loanCosts + [400]
        let kept = try IndividualsChart.compute(withOutlier, rules: SPCRuleEvaluator(rules: [.n1]))
        let excluded = try IndividualsChart.compute(withOutlier, estimation: .phaseI(excludeOutOfControl: true), rules: SPCRuleEvaluator(rules: [.n1]))
        #expect(abs(excluded.individuals.center - 300.5) < 0.005)
        #expect(kept.individuals.center > 305)
        #expect(excluded.individuals.points.last?.signals == [.n1])
    }

    @Test func knownStandard_setsLimitsFromCenterAndSigma() throws {
        let chart = try IndividualsChart.compute(Self.loanCosts + [316], estimation: .known(center: 300, sigma: 5), rules: SPCRuleEvaluator(rules: [.n1]))
        #expect(chart.individuals.ucl == 315)
        #expect(chart.individuals.lcl == 285)
        #expect(abs(chart.movingRange.center - 5 * 1.128379) < 0.0001)
        // 314 (week 15) is inside 315; only the added 316 is beyond.
        #expect(chart.individuals.points.filter { !$0.signals.isEmpty }.map(\.index) == [21])
    }

    @Test func badInput_isRefused() {
        #expect(throws: SPCError.self) { try IndividualsChart.compute([1], rules: SPCRuleEvaluator(rules: [])) }
        #expect(throws: SPCError.self) { try IndividualsChart.compute([1, .nan, 3], rules: SPCRuleEvaluator(rules: [])) }
        #expect(throws: SPCError.self) { try IndividualsChart.compute([1, 2, 3], estimation: .known(center: 0, sigma: 0), rules: SPCRuleEvaluator(rules: [])) }
    }
}
