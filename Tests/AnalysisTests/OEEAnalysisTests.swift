import Analysis
import Domain
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
