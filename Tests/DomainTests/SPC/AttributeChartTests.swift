import Domain
import Testing

/// Worked examples from Montgomery, *Introduction to Statistical Quality Control*, 6th ed.
/// (Wiley, 2009), chapter 7.
struct AttributeChartTests {
    static let none = SPCRuleEvaluator(rules: [])
    static let limitsOnly = SPCRuleEvaluator(rules: [.n1])

    /// Section 7.2.1, frozen orange juice concentrate cans: 30 samples of 50 cans, the number
    /// of nonconforming cans in each. p̄ = 0.2313, UCL 0.4102, LCL 0.0524; samples 15 and 23
    /// plot above the upper limit.
    static let juiceCans = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22, 8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6]

    @Test func pChart_reproducesTheOrangeJuiceCanExample() throws {
        let chart = try AttributeChart.p(defectives: Self.juiceCans, sampleSizes: Array(repeating: 50, count: 30), rules: Self.limitsOnly)
        #expect(abs(chart.center - 0.2313) < 0.00005)
        #expect(abs(chart.ucl - 0.4102) < 0.00005)
        #expect(abs(chart.lcl - 0.0524) < 0.00005)
        #expect(chart.points.filter { $0.signals == [.n1] }.map(\.index) == [15, 23])
    }

    @Test func npChart_isThePChartInCounts() throws {
        let chart = try AttributeChart.np(defectives: Self.juiceCans, sampleSizes: Array(repeating: 50, count: 30), rules: Self.limitsOnly)
        #expect(abs(chart.center - 50 * 0.231333) < 0.0001)
        #expect(abs(chart.ucl - 20.51) < 0.005)
        #expect(abs(chart.lcl - 2.62) < 0.005)
        #expect(chart.points.filter { !$0.signals.isEmpty }.map(\.index) == [15, 23])
    }

    @Test func pChart_revisedLimits_dropTheOutOfControlSamples() throws {
        // The book's revised limits without samples 15 and 23: p̄ = 0.2150, UCL 0.3893, LCL 0.0407.
        let chart = try AttributeChart.p(
            defectives: Self.juiceCans, sampleSizes: Array(repeating: 50, count: 30),
            estimation: .phaseI(excludeOutOfControl: true), rules: Self.none)
        #expect(abs(chart.center - 0.2150) < 0.00005)
        #expect(abs(chart.ucl - 0.3893) < 0.00005)
        #expect(abs(chart.lcl - 0.0407) < 0.00005)
    }

    @Test func pChart_withVaryingSampleSizes_hasLimitsPerPoint() throws {
        let chart = try AttributeChart.p(defectives: [5, 10, 2], sampleSizes: [50, 200, 20], rules: Self.none)
        #expect(abs(chart.center - 17.0 / 270) < 1e-12)
        #expect(chart.points[1].ucl < chart.points[0].ucl)
        #expect(chart.points[0].ucl > chart.points[1].ucl && chart.points[2].ucl > chart.points[0].ucl)
    }

    /// Section 7.3.1, nonconformities in 26 samples of 100 printed circuit boards:
    /// c̄ = 19.85, UCL 33.22, LCL 6.48; samples 6 and 20 are outside.
    static let circuitBoards = [21, 24, 16, 12, 15, 5, 28, 20, 31, 25, 20, 24, 16, 19, 10, 17, 13, 22, 18, 39, 30, 24, 16, 19, 17, 15]

    @Test func cChart_reproducesTheCircuitBoardExample() throws {
        let chart = try AttributeChart.c(defects: Self.circuitBoards, rules: Self.limitsOnly)
        #expect(abs(chart.center - 19.85) < 0.005)
        // The book adds 3√19.85 to the rounded center: 33.22; unrounded it is 33.211.
        #expect(abs(chart.ucl - 33.22) < 0.01)
        #expect(abs(chart.lcl - 6.48) < 0.005)
        #expect(chart.points.filter { !$0.signals.isEmpty }.map(\.index) == [6, 20])
    }

    /// Section 7.3.1, personal computers: 20 samples of 5 computers, nonconformities found:
    /// ū = 1.93, UCL 3.79, LCL 0.07.
    @Test func uChart_reproducesThePersonalComputerExample() throws {
        let defects = [10, 12, 8, 14, 10, 16, 11, 7, 10, 15, 9, 5, 7, 11, 12, 6, 8, 10, 7, 5]
        let chart = try AttributeChart.u(defects: defects, units: Array(repeating: 5, count: 20), rules: Self.limitsOnly)
        #expect(abs(chart.center - 1.93) < 1e-9)
        #expect(abs(chart.ucl - 3.79) < 0.005)
        #expect(abs(chart.lcl - 0.07) < 0.005)
        #expect(chart.points.allSatisfy { $0.signals.isEmpty })
    }

    @Test func badCounts_areRefusedNamingTheRow() {
        #expect(throws: SPCError("row 2: defectives cannot be negative (-1)")) {
            try AttributeChart.p(defectives: [1, -1], sampleSizes: [10, 10], rules: Self.none)
        }
        #expect(throws: SPCError("row 1: 12 defectives in a sample of 10")) {
            try AttributeChart.p(defectives: [12, 1], sampleSizes: [10, 10], rules: Self.none)
        }
        #expect(throws: SPCError.self) { try AttributeChart.np(defectives: [1, 2], sampleSizes: [10, 20], rules: Self.none) }
        #expect(throws: SPCError("row 2: the number of units must be positive")) {
            try AttributeChart.u(defects: [1, 2], units: [1, 0], rules: Self.none)
        }
        #expect(throws: SPCError("phase I needs at least 2 samples, got 1")) { try AttributeChart.c(defects: [4], rules: Self.none) }
    }
}
