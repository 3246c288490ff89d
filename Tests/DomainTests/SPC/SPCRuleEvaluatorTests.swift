import Domain
import Testing

/// Each rule on a sequence built to break it exactly once, with center 0 and sigma 1
/// (limits ±3), so every z-score is the value itself.
struct SPCRuleEvaluatorTests {
    private func fired(_ values: [Double], rules: [SPCRule], runLength: Int = 9) -> [Int: [SPCRule]] {
        let evaluator = SPCRuleEvaluator(rules: rules, runLength: runLength)
        let count = values.count
        let signals = evaluator.signals(
            values: values, center: Array(repeating: 0, count: count), ucl: Array(repeating: 3, count: count),
            lcl: Array(repeating: -3, count: count))
        var result: [Int: [SPCRule]] = [:]
        for (index, rules) in signals.enumerated() where !rules.isEmpty { result[index + 1] = rules.rules }
        return result
    }

    /// Alternates ±0.5 around the center: no rule but N4 and N7 can fire on it.
    private func quiet(_ count: Int) -> [Double] { (0..<count).map { $0 % 2 == 0 ? 0.5 : -0.5 } }

    @Test func n1_flagsPointsBeyondTheLimits() {
        #expect(fired([0.1, 3.2, -0.2, -3.01, 2.99], rules: [.n1]) == [2: [.n1], 4: [.n1]])
    }

    @Test func n2_flagsARunOfNineOnOneSide_andRunLengthIsConfigurable() {
        // Points 5...13 are above the center; point 4 is below and point 14 below again.
        let run = quiet(4) + Array(repeating: 0.4, count: 9) + [-0.4]
        #expect(fired(run, rules: [.n2]) == [13: [.n2]])
        #expect(fired(run, rules: [.we4], runLength: 8) == [12: [.we4], 13: [.we4]])
    }

    @Test func n3_flagsSixPointsSteadilyRising() {
        #expect(fired([0, -0.5, -0.4, -0.2, 0, 0.3, 0.9, 0.2], rules: [.n3]) == [7: [.n3]])
        #expect(fired([0.9, 0.6, 0.3, 0, -0.3, -0.6], rules: [.n3]) == [6: [.n3]])
    }

    @Test func n4_flagsFourteenPointsAlternating() {
        #expect(fired(quiet(14), rules: [.n4]) == [14: [.n4]])
        #expect(fired(quiet(13), rules: [.n4]).isEmpty)
    }

    @Test func n5_flagsTwoOfThreeBeyondTwoSigmaOnOneSide() {
        #expect(fired([0, 2.5, 0.1, 2.1, 0], rules: [.n5]) == [4: [.n5]])
        #expect(fired([0, 2.5, 0.1, -2.1, 0], rules: [.n5]).isEmpty, "opposite sides do not count")
    }

    @Test func n6_flagsFourOfFiveBeyondOneSigmaOnOneSide() {
        #expect(fired([-1.5, -1.2, 0, -1.1, -1.9, 0], rules: [.n6]) == [5: [.n6]])
    }

    @Test func n7_flagsFifteenPointsHuggingTheCenter() {
        #expect(fired(quiet(15), rules: [.n7]) == [15: [.n7]])
        #expect(fired(quiet(14) + [1.5], rules: [.n7]).isEmpty)
    }

    @Test func n8_flagsEightPointsAvoidingZoneC() {
        let mixture: [Double] = [1.5, -1.5, 1.2, -2, 1.1, -1.3, 2, -1.4]
        #expect(fired(mixture, rules: [.n8]) == [8: [.n8]])
    }

    @Test func westernElectricSet_matchesItsNelsonEquivalents() {
        let values: [Double] = [0, 3.5, 2.5, 0.1, 2.2, 1.2, 1.5, 0.2, 1.1, 1.6]
        let we = fired(values, rules: SPCRule.westernElectric, runLength: 8)
        let nelson = fired(values, rules: [.n1, .n5, .n6, .n2], runLength: 8)
        #expect(we.mapValues { Set($0.map(\.rawValue)) } == nelson.mapValues { Set($0.map { $0.rawValue.replacingN() }) })
    }
}

private extension String {
    /// N1/N5/N6 are WE1/WE2/WE3, and N2 with a run of 8 is WE4.
    func replacingN() -> String { ["N1": "WE1", "N5": "WE2", "N6": "WE3", "N2": "WE4"][self] ?? self }
}
