import Analysis
import Domain
import Foundation
import Testing

struct OEEAnalysisTests {
    /// The oee.com worked example as the JSON `mes oee` reads (see OEECalculatorTests), with
    /// one interval written in another time zone and one with fractional seconds.
    static let shift = """
        {"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"},
         "intervals": [
          {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T08:00:00Z", "state": "running"},
          {"start": "2026-11-23T08:00:00Z", "end": "2026-11-23T08:15:00Z", "state": "planned_stop", "reason": "break"},
          {"start": "2026-11-23T08:15:00Z", "end": "2026-11-23T09:20:00Z", "state": "running"},
          {"start": "2026-11-23T09:20:00Z", "end": "2026-11-23T10:07:00Z", "state": "unplanned_stop", "reason": "spindle"},
          {"start": "2026-11-23T10:07:00Z", "end": "2026-11-23T10:30:00Z", "state": "running"},
          {"start": "2026-11-23T10:30:00Z", "end": "2026-11-23T11:00:00Z", "state": "planned_stop", "reason": "meal"},
          {"start": "2026-11-23T11:00:00Z", "end": "2026-11-23T12:30:00Z", "state": "running"},
          {"start": "2026-11-23T12:30:00Z", "end": "2026-11-23T12:45:00Z", "state": "planned_stop", "reason": "break"},
          {"start": "2026-11-23T12:45:00.000+00:00", "end": "2026-11-23T15:00:00+01:00", "state": "running"}],
         "counts": [{"part": "widget", "ideal_cycle_seconds": 1.0, "total": 19271, "reject": 423}]}
        """

    @Test func oeeFile_givesThePublishedFiguresAndLossesInMinutes() throws {
        let output = try OEEAnalysis().run(json: Array(Self.shift.utf8), name: "shift.json")
        #expect(output.plannedProductionSeconds == 25_200)
        #expect(output.runSeconds == 22_380)
        #expect(abs(output.oee - 0.7479) < 0.00005)
        #expect(output.losses.plannedStops == 60)
        #expect(output.losses.breakdowns == 47)
        #expect(abs(output.losses.rejects - 423.0 / 60) < 1e-9)
        #expect(output.flags.isEmpty)
    }

    @Test(arguments: [
        (#"{"window": {"start": "2026-11-23T06:00:00Z"}}"#, "f.json: window.end is missing"),
        ("{", "f.json: not valid JSON"),
        (#"{"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"}, "intervals": [], "counts": [{"part": "a", "ideal_cycle_seconds": 1, "total": "many", "reject": 0}]}"#,
         "f.json: counts[0].total: expected a whole number"),
        (#"{"window": {"start": "yesterday", "end": "2026-11-23T14:00:00Z"}, "intervals": [], "counts": []}"#,
         "f.json: window.start 'yesterday' is not an ISO 8601 date-time with a time zone"),
        (#"{"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"}, "intervals": [{"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T07:00:00Z", "state": "sleeping"}], "counts": []}"#,
         "f.json: intervals[0].state 'sleeping' is not one of running, idle, unplanned_stop, setup, planned_stop, offline"),
        (#"{"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"}, "intervals": [], "counts": [{"part": "a", "ideal_cycle_seconds": 1, "total": 5, "reject": -1}]}"#,
         "f.json: part a: counts cannot be negative"),
    ])
    func badFiles_areClearErrors(json: String, message: String) {
        #expect(throws: AnalysisError(message)) { try OEEAnalysis().run(json: Array(json.utf8), name: "f.json") }
    }
}

struct OEERollupAnalysisTests {
    /// Two machines on one line over a Berlin day: an early shift 06:00–14:00 local with a
    /// 30-minute break at 10:00, nothing else scheduled. M1 counts with a PLC counter that is
    /// reset at 10:30 local.
    static let plant = """
        {"window": {"start": "2026-11-23T00:00:00+01:00", "end": "2026-11-24T00:00:00+01:00"},
         "calendar": {"time_zone": "Europe/Berlin",
                      "shifts": [{"name": "early", "start": "06:00", "end": "14:00", "breaks": [{"start": "10:00", "minutes": 30}]}]},
         "machines": [
          {"machine": "M1", "line": "L1",
           "intervals": [
            {"start": "2026-11-23T06:00:00+01:00", "end": "2026-11-23T10:00:00+01:00", "state": "running", "work_order": "WO-1", "operator": "ana"},
            {"start": "2026-11-23T10:30:00+01:00", "end": "2026-11-23T14:00:00+01:00", "state": "running", "work_order": "WO-2", "operator": "ana"}],
           "counts": [{"part": "P-1", "ideal_cycle_seconds": 10, "readings": [
            {"time": "2026-11-23T06:00:00+01:00", "total": 500, "reject": 10},
            {"time": "2026-11-23T10:00:00+01:00", "total": 1940, "reject": 20},
            {"time": "2026-11-23T12:00:00+01:00", "total": 700, "reject": 5},
            {"time": "2026-11-23T14:00:00+01:00", "total": 1200, "reject": 5}]}]},
          {"machine": "M2", "line": "L1",
           "intervals": [
            {"start": "2026-11-23T06:00:00+01:00", "end": "2026-11-23T14:00:00+01:00", "state": "unplanned_stop", "reason": "no operator"}],
           "counts": []}]}
        """

    @Test func machinesCalendarAndCounterReadings_rollUpByLineShiftAndWorkOrder() throws {
        let output = try OEEAnalysis(groups: "line,shift,work_order,machine").run(json: Array(Self.plant.utf8), name: "plant.json")
        // Planned: two machines × 7.5 h. The break and the unscheduled 16 hours are planned stops.
        #expect(output.plannedProductionSeconds == 2 * 7.5 * 3600)
        #expect(output.losses.plannedStops == 2 * 16.5 * 60)
        #expect(output.losses.noData == 0)
        // M1: 1,440 parts to 10:00 (10 rejects), then a reset: 700 and 500 more (5 rejects).
        let m1 = try #require(output.rollups.first { $0.by == "machine" && $0.key == "M1" })
        #expect(m1.figures.runSeconds == 7.5 * 3600)
        #expect(abs(m1.figures.performance - 2640.0 * 10 / (7.5 * 3600)) < 1e-12)
        #expect(abs(m1.figures.quality - 2625.0 / 2640) < 1e-12)
        #expect(m1.figures.flags == ["a part counter was reset 2 times: parts made just before a reset are missing"])
        #expect(output.rollups.map { "\($0.by) \($0.key)" } == [
            "line L1", "shift 2026-11-23 early", "shift (no shift)", "work_order (none)", "work_order WO-1", "work_order WO-2",
            "machine M1", "machine M2",
        ])
        let wo1 = output.rollups[4].figures
        #expect(wo1.runSeconds == 4 * 3600 && abs(wo1.performance - 1.0) < 1e-12)
        // M2 never ran: a breakdown all shift, and no work order.
        #expect(output.rollups[3].figures.losses.breakdowns == 7.5 * 60)
    }

    @Test func rows_encodeFlatWithTheirGroup() throws {
        let output = try OEEAnalysis(groups: "machine").run(json: Array(Self.plant.utf8), name: "plant.json")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(output), as: UTF8.self)
        #expect(text.hasPrefix(#"{"availability":"#))
        #expect(text.contains(#""rollups":[{"availability":"#))
        #expect(text.contains(#""by":"machine","flags":["a part counter"#))
    }

    @Test(arguments: [
        (#"{"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"}, "intervals": [], "counts": [], "machines": []}"#,
         "f.json: give either machines or intervals and counts, not both"),
        (#"{"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"}, "counts": []}"#, "f.json: intervals is missing"),
        (#"{"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"}, "intervals": [], "counts": [{"part": "a", "ideal_cycle_seconds": 1, "total": 3, "readings": []}]}"#,
         "f.json: counts[0]: give total (and reject) or readings, not both"),
        (#"{"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"}, "machines": [{"machine": "M", "intervals": [], "counts": [{"part": "a", "ideal_cycle_seconds": 1, "readings": [{"time": "2026-11-23T07:00:00Z", "total": 5, "reject": 0}, {"time": "2026-11-23T08:00:00Z", "total": 6, "reject": 3}]}]}]}"#,
         "f.json: machines[0].counts[0].readings[1]: the reject counter rose by 3, more than the total counter (1)"),
        (#"{"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"}, "intervals": [], "counts": [], "calendar": {"time_zone": "Mars/Base", "shifts": []}}"#,
         "f.json: calendar.time_zone 'Mars/Base' is not a known time zone (e.g. Europe/Berlin)"),
        (#"{"window": {"start": "2026-11-23T06:00:00Z", "end": "2026-11-23T14:00:00Z"}, "intervals": [], "counts": [], "calendar": {"time_zone": "UTC", "shifts": [{"name": "x", "start": "6:00", "end": "14:00"}]}}"#,
         "f.json: calendar.shifts[0].start '6:00' is not a time HH:MM"),
    ])
    func badFiles_areClearErrors(json: String, message: String) {
        #expect(throws: AnalysisError(message)) { try OEEAnalysis(groups: "shift").run(json: Array(json.utf8), name: "f.json") }
    }

    @Test func unknownGroup_isRefused() {
        #expect(throws: AnalysisError("'site' is not one of machine, line, shift, part, operator, work_order")) {
            try OEEAnalysis(groups: "line,site")
        }
    }
}
