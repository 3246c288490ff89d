import Domain
import Foundation

// Analytics benchmark: SPC limits and every Nelson rule over 1,000,000 individuals, and OEE for
// 50 machines over one year of state intervals, in memory. Prints the best of five runs.

/// A deterministic pseudo-random generator (xorshift), so every run sees the same data.
struct XorShift: RandomNumberGenerator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

func best(_ runs: Int = 5, _ body: () throws -> Void) rethrows -> Duration {
    var fastest = Duration.seconds(1_000)
    for _ in 0..<runs {
        let start = ContinuousClock.now
        try body()
        fastest = min(fastest, ContinuousClock.now - start)
    }
    return fastest
}

func milliseconds(_ duration: Duration) -> String {
    String(format: "%.1f ms", Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15)
}

var random = XorShift()
// Sum of 12 uniforms minus 6: close enough to normal for a benchmark, and cheap.
let individuals: [Double] = (0..<1_000_000).map { _ in
    (0..<12).reduce(0.0) { sum, _ in sum + Double.random(in: 0..<1, using: &random) } - 6 + 50
}
var chart: IndividualsChart?
let spc = try best { chart = try IndividualsChart.compute(individuals, rules: SPCRuleEvaluator(rules: SPCRule.nelson)) }
// Counted outside the timing: the count is a check that the work was done, not part of it.
let signalCount = chart!.individuals.points.reduce(0) { $0 + $1.signals.rawValue.nonzeroBitCount }
print("SPC I-MR, 1,000,000 individuals, limits + N1-N8:  \(milliseconds(spc))  (\(signalCount) signals)")

// 50 machines, one year, a state change every 7 minutes on average (about 75,000 intervals each).
let yearStart = 1_767_225_600.0  // 2026-01-01 UTC
let yearEnd = yearStart + 365 * 86_400
let states: [MachineState] = [.running, .running, .running, .idle, .unplannedStop, .setup, .plannedStop]
let machines: [[StateInterval]] = (0..<50).map { _ in
    var intervals: [StateInterval] = []
    var time = yearStart
    while time < yearEnd {
        let length = Double.random(in: 30..<810, using: &random)
        intervals.append(StateInterval(start: time, end: min(time + length, yearEnd), state: states.randomElement(using: &random)!))
        time += length
    }
    return intervals
}
let intervalCount = machines.reduce(0) { $0 + $1.count }
let counts = [PartCount(part: "P-1", idealCycleSeconds: 30, total: 600_000, reject: 6_000)]
var totalOEE = 0.0
let oee = try best {
    totalOEE = 0
    for intervals in machines {
        totalOEE += try OEECalculator().compute(windowStart: yearStart, windowEnd: yearEnd, intervals: intervals, counts: counts).oee
    }
}
print("OEE, 50 machines x 1 year (\(intervalCount) intervals):  \(milliseconds(oee))  (mean OEE \(String(format: "%.3f", totalOEE / 50)))")

if CommandLine.arguments.contains("--breakdown") {
    let n = individuals.count
    let centers = [Double](repeating: 50, count: n), ucls = [Double](repeating: 53, count: n), lcls = [Double](repeating: 47, count: n)
    let evaluate = best { _ = SPCRuleEvaluator(rules: SPCRule.nelson).signals(values: individuals, center: centers, ucl: ucls, lcl: lcls) }
    print("  rules alone: \(milliseconds(evaluate))")
    let fixed = best { _ = SPCRuleEvaluator(rules: SPCRule.nelson).signals(values: individuals, center: 50, ucl: 53, lcl: 47) }
    print("  rules alone, fixed limits: \(milliseconds(fixed))")
    let none = try best { _ = try IndividualsChart.compute(individuals, rules: SPCRuleEvaluator(rules: [])) }
    print("  chart without rules: \(milliseconds(none))")
}
