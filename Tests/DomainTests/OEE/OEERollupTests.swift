import Domain
import Testing

struct UTC: TimeZoneOffsets {
    func offset(at instant: Double) -> Int { 0 }
}

struct OEERollupTests {
    static let day = 1_795_392_000.0  // 2026-11-23 00:00 UTC, a Monday
    static func at(_ hours: Double) -> Double { day + hours * 3600 }
    static func count(_ part: String, _ total: Int, reject: Int = 0, at time: Double?, ideal: Double = 1, resets: Int = 0) -> TimedPartCount {
        TimedPartCount(time: time, count: PartCount(part: part, idealCycleSeconds: ideal, total: total, reject: reject, counterResets: resets))
    }

    /// M1: A 0.8, P 0.9, Q 1 (OEE 0.72) over 1,000 planned seconds. M2: 600 s planned stop,
    /// then A 0.625, P 1, Q 0.9 (OEE 0.5625) over 400 planned seconds.
    static let m1 = MachineRecord(
        machine: "M1", line: "L1",
        intervals: [
            StateInterval(start: 0, end: 800, state: .running),
            StateInterval(start: 800, end: 1000, state: .unplannedStop, reason: "jam"),
        ],
        counts: [count("a", 720, at: 500)])
    static let m2 = MachineRecord(
        machine: "M2", line: "L1",
        intervals: [
            StateInterval(start: 0, end: 600, state: .plannedStop),
            StateInterval(start: 600, end: 850, state: .running),
            StateInterval(start: 850, end: 1000, state: .unplannedStop, reason: "tool"),
        ],
        counts: [count("a", 250, reject: 25, at: 700)])

    @Test func line_weighsMachinesByTheirTimeNotByAveragingPercentages() throws {
        let (total, rows) = try OEERollup().compute(windowStart: 0, windowEnd: 1000, machines: [Self.m1, Self.m2], by: [.machine, .line])
        #expect(rows.map(\.key) == ["M1", "M2", "L1"])
        #expect(abs(rows[0].result.oee - 0.72) < 1e-12)
        #expect(abs(rows[1].result.oee - 0.5625) < 1e-12)
        // Fully productive 720 + 225 s over 1,000 + 400 planned seconds; the mean of the two
        // percentages (0.64125) would overweight M2's short planned time.
        let line = rows[2].result
        #expect(line.plannedProductionSeconds == 1400)
        #expect(abs(line.oee - 945.0 / 1400) < 1e-12)
        #expect(abs(line.availability * line.performance * line.quality - line.oee) < 1e-12)
        #expect(line == total)
        #expect(line.losses.breakdowns == 350)
    }

    @Test func workOrders_operatorsAndParts_splitTheMachinesTimeAtContextChanges() throws {
        var machine = Self.m1
        machine.counts = [Self.count("a", 300, at: 100), Self.count("b", 420, reject: 20, at: 700)]
        machine.contexts = [
            ProductionContext(start: 0, end: 400, part: "a", operatorID: "alice", workOrder: "WO-1"),
            ProductionContext(start: 400, end: 1000, part: "b", operatorID: "bob", workOrder: "WO-2"),
        ]
        let (total, rows) = try OEERollup().compute(windowStart: 0, windowEnd: 1000, machines: [machine], by: [.workOrder, .operator, .part])
        #expect(rows.map(\.key) == ["WO-1", "WO-2", "alice", "bob", "a", "b"])
        let wo1 = rows[0].result
        let wo2 = rows[1].result
        #expect(wo1.plannedProductionSeconds == 400 && wo1.runSeconds == 400 && wo1.performance == 0.75)
        // WO-2 ran 400..800 and broke down for the last 200 s.
        #expect(wo2.runSeconds == 400 && wo2.losses.breakdowns == 200 && wo2.totalCount == 420 && wo2.goodCount == 400)
        #expect(rows[2].result == wo1 && rows[5].result == wo2)
        #expect(OEECalculator.Result.combining([wo1, wo2]) == total)
    }

    /// A count stamped at t is for parts finished up to t: at a boundary it belongs to the slice
    /// that ends there; at the window's start, to the window before.
    @Test func countsAtABoundary_belongToTheSliceThatEndsThere() throws {
        var machine = Self.m1
        machine.counts = [Self.count("a", 100, at: 400), Self.count("a", 7, at: 0), Self.count("a", 50, at: 1000)]
        machine.contexts = [ProductionContext(start: 0, end: 400, workOrder: "WO-1"), ProductionContext(start: 400, end: 1000, workOrder: "WO-2")]
        let (total, rows) = try OEERollup().compute(windowStart: 0, windowEnd: 1000, machines: [machine], by: [.workOrder])
        #expect(rows.map(\.result.totalCount) == [100, 50])
        #expect(total.totalCount == 150)
    }

    @Test func timeNoContextCovers_isGroupedUnderNone() throws {
        var machine = Self.m1
        machine.contexts = [ProductionContext(start: 0, end: 300, workOrder: "WO-1")]
        let (_, rows) = try OEERollup().compute(windowStart: 0, windowEnd: 1000, machines: [machine], by: [.workOrder])
        #expect(rows.map(\.key) == [OEERollup.none, "WO-1"])
        #expect(rows[0].result.plannedProductionSeconds == 700)
    }

    /// Early 06:00–14:00 with a 15-minute break at 09:00, late 14:00–22:00; the night is not
    /// scheduled. A 20-minute stop across the shift change is a breakdown in both shifts
    /// (judged by its whole length), not two small stops.
    @Test func shifts_splitAStopAtTheBoundaryAndLeaveUnscheduledTimePlanned() throws {
        let calendar = ShiftCalendar(
            patterns: [
                ShiftPattern(name: "early", startMinute: 360, endMinute: 840, breaks: [.init(startMinute: 540, minutes: 15)]),
                ShiftPattern(name: "late", startMinute: 840, endMinute: 1320),
            ],
            timeZone: UTC())
        let shifts = try calendar.shifts(from: Self.at(0), to: Self.at(24))
        let machine = MachineRecord(
            machine: "M1", line: "L1",
            intervals: [
                StateInterval(start: Self.at(6), end: Self.at(14 - 10.0 / 60), state: .running),
                StateInterval(start: Self.at(14 - 10.0 / 60), end: Self.at(14 + 10.0 / 60), state: .unplannedStop),
                StateInterval(start: Self.at(14 + 10.0 / 60), end: Self.at(22), state: .running),
            ],
            counts: [Self.count("a", 20_000, at: Self.at(10)), Self.count("a", 20_000, at: Self.at(18))])
        let rollup = OEERollup(calculator: OEECalculator(smallStopSeconds: 300), shifts: shifts)
        let (total, rows) = try rollup.compute(windowStart: Self.at(0), windowEnd: Self.at(24), machines: [machine], by: [.shift])
        #expect(rows.map(\.key) == ["2026-11-23 early", "2026-11-23 late", OEERollup.noShift])
        let early = rows[0].result
        #expect(early.plannedProductionSeconds == (8 * 60 - 15) * 60)
        #expect(early.losses.breakdowns == 600 && early.losses.smallStops == 0)
        #expect(rows[1].result.losses.breakdowns == 600)
        // The unscheduled night is planned time, not missing data, and has no production.
        #expect(rows[2].result.plannedProductionSeconds == 0)
        #expect(total.losses.noData == 0)
        #expect(total.losses.plannedStops == (8 * 60 + 15) * 60)
        #expect(total.flags.isEmpty)
    }

    @Test func anUntimedCount_cannotBeSplit() {
        var machine = Self.m1
        machine.counts = [Self.count("a", 720, at: nil)]
        machine.contexts = [ProductionContext(start: 0, end: 300, workOrder: "WO-1")]
        #expect(throws: OEEError("machine M1, part a: a count without a time cannot be split by work_order; give each count its time")) {
            try OEERollup().compute(windowStart: 0, windowEnd: 1000, machines: [machine, Self.m2], by: [.machine, .workOrder])
        }
        // Without a split it is fine.
        #expect(throws: Never.self) { try OEERollup().compute(windowStart: 0, windowEnd: 1000, machines: [machine], by: [.machine]) }
    }

    @Test func badMachineData_isRefusedNamingTheMachine() {
        var machine = Self.m2
        machine.intervals.append(StateInterval(start: 950, end: 1100, state: .running))
        #expect(throws: OEEError("machine M2: intervals 3 and 4 overlap")) {
            try OEERollup().compute(windowStart: 0, windowEnd: 1000, machines: [Self.m1, machine], by: [.line])
        }
        #expect(throws: OEEError("machine M1 is listed twice")) {
            try OEERollup().compute(windowStart: 0, windowEnd: 1000, machines: [Self.m1, Self.m1], by: [.line])
        }
    }

    @Test func counterResets_areFlaggedAndSurviveTheRollup() throws {
        var machine = Self.m1
        machine.counts = [Self.count("a", 700, at: 500, resets: 1)]
        let (total, rows) = try OEERollup().compute(windowStart: 0, windowEnd: 1000, machines: [machine, Self.m2], by: [.machine])
        #expect(rows[0].result.flags == ["a part counter was reset 1 time: parts made just before a reset are missing"])
        #expect(rows[1].result.flags.isEmpty)
        #expect(total.counterResets == 1 && total.flags.count == 1)
    }
}
