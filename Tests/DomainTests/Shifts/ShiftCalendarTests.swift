import Domain
import Testing

/// Europe/Berlin in 2026: CET (+1 h) until 2026-03-29 01:00 UTC, CEST (+2 h) until
/// 2026-10-25 01:00 UTC, then CET. (EU rule: last Sunday of March and October at 01:00 UTC.)
struct Berlin2026: TimeZoneOffsets {
    func offset(at instant: Double) -> Int {
        instant >= 1_774_746_000 && instant < 1_792_890_000 ? 7200 : 3600
    }
}

struct ShiftCalendarTests {
    static let hour = 3600.0
    static let monday = 1_768_176_000.0  // 2026-01-12 00:00 UTC, a Monday
    static let springSunday = 1_774_742_400.0  // 2026-03-29 00:00 UTC
    static let autumnSunday = 1_792_886_400.0  // 2026-10-25 00:00 UTC

    static let early = ShiftPattern(
        name: "early", startMinute: 6 * 60, endMinute: 14 * 60, weekdays: Set(1...5),
        breaks: [.init(startMinute: 9 * 60, minutes: 15), .init(startMinute: 12 * 60, minutes: 30)])
    static let night = ShiftPattern(
        name: "night", startMinute: 22 * 60, endMinute: 6 * 60, weekdays: Set(1...7),
        breaks: [.init(startMinute: 2 * 60, minutes: 30)])

    @Test func dayShift_inWinter_isUTCPlusOne_withItsBreaks() throws {
        let calendar = ShiftCalendar(patterns: [Self.early], timeZone: Berlin2026())
        let shifts = try calendar.shifts(from: Self.monday, to: Self.monday + 24 * Self.hour)
        #expect(shifts.count == 1)
        let shift = try #require(shifts.first)
        #expect(shift.localDate == "2026-01-12")
        #expect(shift.start == Self.monday + 5 * Self.hour)  // 06:00 CET
        #expect(shift.end == Self.monday + 13 * Self.hour)
        #expect(shift.breaks == [
            ClosedOpenRange(start: Self.monday + 8 * Self.hour, end: Self.monday + 8.25 * Self.hour),
            ClosedOpenRange(start: Self.monday + 11 * Self.hour, end: Self.monday + 11.5 * Self.hour),
        ])
    }

    @Test func weekdaysAreRespected() throws {
        let calendar = ShiftCalendar(patterns: [Self.early], timeZone: Berlin2026())
        let week = try calendar.shifts(from: Self.monday, to: Self.monday + 7 * 24 * Self.hour)
        #expect(week.map(\.localDate) == ["2026-01-12", "2026-01-13", "2026-01-14", "2026-01-15", "2026-01-16"])
    }

    @Test func nightShift_crossesMidnight_andKeepsItsStartDate_andItsBreakAfterMidnight() throws {
        let calendar = ShiftCalendar(patterns: [Self.night], timeZone: Berlin2026())
        let shifts = try calendar.shifts(from: Self.monday + 20 * Self.hour, to: Self.monday + 22 * Self.hour)
        let shift = try #require(shifts.first { $0.localDate == "2026-01-12" })
        #expect(shift.start == Self.monday + 21 * Self.hour)  // 22:00 CET
        #expect(shift.end == Self.monday + 29 * Self.hour)    // 06:00 CET next day
        #expect(shift.breaks == [ClosedOpenRange(start: Self.monday + 25 * Self.hour, end: Self.monday + 25.5 * Self.hour)])
    }

    @Test func nightShift_whenClocksGoForward_lastsSevenHours() throws {
        let calendar = ShiftCalendar(patterns: [Self.night], timeZone: Berlin2026())
        let shifts = try calendar.shifts(from: Self.springSunday - 3 * Self.hour, to: Self.springSunday)
        let shift = try #require(shifts.first { $0.localDate == "2026-03-28" })
        #expect(shift.start == Self.springSunday - 3 * Self.hour)  // Sat 22:00 CET = 21:00 UTC
        #expect(shift.end == Self.springSunday + 4 * Self.hour)    // Sun 06:00 CEST = 04:00 UTC
        #expect(shift.end - shift.start == 6 * Self.hour + Self.hour)
        // The 02:00 break falls in the skipped hour: it moves forward to 03:00 CEST (01:00 UTC).
        #expect(shift.breaks == [ClosedOpenRange(start: Self.springSunday + Self.hour, end: Self.springSunday + 1.5 * Self.hour)])
    }

    @Test func nightShift_whenClocksGoBack_lastsNineHours() throws {
        let calendar = ShiftCalendar(patterns: [Self.night], timeZone: Berlin2026())
        let shifts = try calendar.shifts(from: Self.autumnSunday - 3 * Self.hour, to: Self.autumnSunday)
        let shift = try #require(shifts.first { $0.localDate == "2026-10-24" })
        #expect(shift.start == Self.autumnSunday - 4 * Self.hour)  // Sat 22:00 CEST = 20:00 UTC
        #expect(shift.end == Self.autumnSunday + 5 * Self.hour)    // Sun 06:00 CET = 05:00 UTC
        #expect(shift.end - shift.start == 9 * Self.hour)
        // 02:30 happens twice that night; the break takes the first 02:00 (00:00 UTC).
        #expect(shift.breaks == [ClosedOpenRange(start: Self.autumnSunday, end: Self.autumnSunday + 0.5 * Self.hour)])
    }

    @Test func badPatterns_andRanges_areRefused() {
        let bad = ShiftPattern(name: "x", startMinute: 1440, endMinute: 60)
        #expect(throws: ShiftError.self) { try ShiftCalendar(patterns: [bad], timeZone: Berlin2026()).shifts(from: 0, to: 1) }
        let badDay = ShiftPattern(name: "y", startMinute: 0, endMinute: 60, weekdays: [8])
        #expect(throws: ShiftError.self) { try ShiftCalendar(patterns: [badDay], timeZone: Berlin2026()).shifts(from: 0, to: 1) }
        #expect(throws: ShiftError("the range must end after it starts")) {
            try ShiftCalendar(patterns: [], timeZone: Berlin2026()).shifts(from: 5, to: 5)
        }
    }
}

struct ShiftOEETests {
    /// The night the clocks go forward: the shift is 7 hours, its break 30 minutes, so planned
    /// production is 6.5 hours, and a machine that ran through the break loses nothing for it.
    @Test func oeeOverACalendarShift_usesTheRealLengthAndTheCalendarBreaks() throws {
        let calendar = ShiftCalendar(patterns: [ShiftCalendarTests.night], timeZone: Berlin2026())
        let shift = try #require(try calendar.shifts(from: ShiftCalendarTests.springSunday - 3600, to: ShiftCalendarTests.springSunday)
            .first { $0.localDate == "2026-03-28" })
        let result = try OEECalculator().compute(
            windowStart: shift.start, windowEnd: shift.end,
            intervals: [StateInterval(start: shift.start - 600, end: shift.end + 600, state: .running)],
            counts: [PartCount(part: "a", idealCycleSeconds: 10, total: 2340, reject: 0)],
            plannedBreaks: shift.breaks)
        #expect(result.windowSeconds == 7 * 3600)
        #expect(result.plannedProductionSeconds == 6.5 * 3600)
        #expect(result.losses.plannedStops == 1800)
        #expect(result.availability == 1)
        #expect(result.performance == 1)  // 2340 × 10 s = 6.5 h
        #expect(result.flags.isEmpty)
    }

    @Test func breaks_withNoStateRecorded_areStillPlanned_notNoData() throws {
        let result = try OEECalculator().compute(
            windowStart: 0, windowEnd: 3600,
            intervals: [StateInterval(start: 0, end: 1800, state: .running), StateInterval(start: 2400, end: 3600, state: .running)],
            counts: [], plannedBreaks: [ClosedOpenRange(start: 1800, end: 2400), ClosedOpenRange(start: 2000, end: 2100)])
        #expect(result.losses.plannedStops == 600)
        #expect(result.losses.noData == 0)
        #expect(result.plannedProductionSeconds == 3000)
        #expect(result.availability == 1)
    }
}
