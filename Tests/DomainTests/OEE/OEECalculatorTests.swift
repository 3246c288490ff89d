import Domain
import Testing

struct OEECalculatorTests {
    static let shiftStart = 1_795_420_800.0  // 2026-11-23 06:00 UTC
    static func at(_ minutes: Double) -> Double { shiftStart + minutes * 60 }

    /// oee.com, "Calculate OEE" worked example: an 8-hour shift (480 min) with two 15-minute
    /// breaks and a 30-minute meal (planned stops), 47 minutes of downtime, an ideal cycle time
    /// of 1.0 s (60 parts/min), 19,271 parts of which 423 rejects. Published: planned
    /// production time 420 min, run time 373 min, availability 88.81 %, performance 86.11 %,
    /// quality 97.80 %, OEE 74.79 %.
    static let oeeComShift: [StateInterval] = [
        StateInterval(start: at(0), end: at(120), state: .running),
        StateInterval(start: at(120), end: at(135), state: .plannedStop, reason: "break"),
        StateInterval(start: at(135), end: at(200), state: .running),
        StateInterval(start: at(200), end: at(247), state: .unplannedStop, reason: "spindle fault"),
        StateInterval(start: at(247), end: at(270), state: .running),
        StateInterval(start: at(270), end: at(300), state: .plannedStop, reason: "meal"),
        StateInterval(start: at(300), end: at(390), state: .running),
        StateInterval(start: at(390), end: at(405), state: .plannedStop, reason: "break"),
        StateInterval(start: at(405), end: at(480), state: .running),
    ]

    @Test func oee_reproducesTheOEEComWorkedExample() throws {
        let result = try OEECalculator().compute(
            windowStart: Self.at(0), windowEnd: Self.at(480), intervals: Self.oeeComShift,
            counts: [PartCount(part: "widget", idealCycleSeconds: 1, total: 19_271, reject: 423)])
        #expect(result.plannedProductionSeconds == 420 * 60)
        #expect(result.runSeconds == 373 * 60)
        #expect(abs(result.availability - 0.8881) < 0.00005)
        #expect(abs(result.performance - 0.8611) < 0.00005)
        #expect(abs(result.quality - 0.9780) < 0.00005)
        #expect(abs(result.oee - 0.7479) < 0.00005)
        #expect(result.losses.plannedStops == 60 * 60)
        #expect(result.losses.breakdowns == 47 * 60)
        #expect(result.flags.isEmpty)
        // The loss tree adds up: planned production = fully productive + every loss in it.
        let losses = result.losses
        let accounted = result.fullyProductiveSeconds + losses.breakdowns + losses.setup + losses.idle + losses.noData
            + losses.smallStops + losses.speed + losses.rejects
        #expect(abs(accounted - result.plannedProductionSeconds) < 1e-6)
        #expect(abs(result.oee - result.fullyProductiveSeconds / result.plannedProductionSeconds) < 1e-12)
    }

    @Test func shortStops_areSmallStops_aPerformanceLoss() throws {
        let intervals = [
            StateInterval(start: Self.at(0), end: Self.at(29), state: .running),
            StateInterval(start: Self.at(29), end: Self.at(30), state: .unplannedStop),  // 60 s
            StateInterval(start: Self.at(30), end: Self.at(60), state: .running),
        ]
        let result = try OEECalculator(smallStopSeconds: 120).compute(
            windowStart: Self.at(0), windowEnd: Self.at(60), intervals: intervals,
            counts: [PartCount(part: "a", idealCycleSeconds: 2, total: 1500, reject: 0)])
        #expect(result.availability == 1)
        #expect(result.losses.smallStops == 60)
        #expect(result.losses.breakdowns == 0)
        #expect(result.losses.speed == 3600 - 3000 - 60)
    }

    @Test func windowEdges_clipIntervals_butALongStopStaysABreakdown() throws {
        // A 10-minute breakdown that began 9 minutes before the window: 1 minute falls inside,
        // and it is still a breakdown, not a small stop.
        let intervals = [
            StateInterval(start: Self.at(-9), end: Self.at(1), state: .unplannedStop),
            StateInterval(start: Self.at(1), end: Self.at(70), state: .running),
        ]
        let result = try OEECalculator(smallStopSeconds: 120).compute(
            windowStart: Self.at(0), windowEnd: Self.at(60), intervals: intervals,
            counts: [PartCount(part: "a", idealCycleSeconds: 1, total: 3000, reject: 30)])
        #expect(result.losses.breakdowns == 60)
        #expect(result.losses.smallStops == 0)
        #expect(result.runSeconds == 59 * 60)
    }

    @Test func performanceAbove100Percent_isReportedAndFlagged_neverCapped() throws {
        let result = try OEECalculator().compute(
            windowStart: Self.at(0), windowEnd: Self.at(10), intervals: [StateInterval(start: Self.at(0), end: Self.at(10), state: .running)],
            counts: [PartCount(part: "a", idealCycleSeconds: 1, total: 700, reject: 0)])
        #expect(abs(result.performance - 700.0 / 600) < 1e-12)
        #expect(result.flags.contains { $0.contains("performance above 100 %") })
    }

    @Test func uncoveredTime_isANoDataLoss_andFlagged() throws {
        let result = try OEECalculator().compute(
            windowStart: Self.at(0), windowEnd: Self.at(60), intervals: [StateInterval(start: Self.at(0), end: Self.at(50), state: .running)],
            counts: [])
        #expect(result.losses.noData == 600)
        #expect(abs(result.availability - 50.0 / 60) < 1e-12)
        #expect(result.flags.contains("no state recorded for 600 s of the window"))
    }

    @Test func badInput_isRefused() {
        let calculator = OEECalculator()
        #expect(throws: OEEError("intervals 1 and 2 overlap")) {
            try calculator.compute(windowStart: 0, windowEnd: 100, intervals: [
                StateInterval(start: 0, end: 60, state: .running), StateInterval(start: 50, end: 100, state: .idle),
            ], counts: [])
        }
        #expect(throws: OEEError("interval 1 ends before or when it starts")) {
            try calculator.compute(windowStart: 0, windowEnd: 100, intervals: [StateInterval(start: 60, end: 60, state: .running)], counts: [])
        }
        #expect(throws: OEEError("part a: 5 rejects out of 4 parts")) {
            try calculator.compute(windowStart: 0, windowEnd: 100, intervals: [], counts: [PartCount(part: "a", idealCycleSeconds: 1, total: 4, reject: 5)])
        }
        #expect(throws: OEEError("part a: counts cannot be negative")) {
            try calculator.compute(windowStart: 0, windowEnd: 100, intervals: [], counts: [PartCount(part: "a", idealCycleSeconds: 1, total: -1, reject: 0)])
        }
        #expect(throws: OEEError("the window must end after it starts")) {
            try calculator.compute(windowStart: 100, windowEnd: 100, intervals: [], counts: [])
        }
    }
}
