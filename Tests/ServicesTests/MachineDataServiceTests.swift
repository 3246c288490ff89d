import Domain
import Foundation
import Postgres
import Services
import TestSupport
import Testing

/// The machine-data service against a real PostgreSQL with the product's migrations.
struct MachineDataServiceTests {
    static let t0: Int64 = 1_795_420_800_000  // 2026-11-23 06:00 UTC
    static let path = MachinePath(site: "S1", area: "A1", line: "L1", machine: "M1")

    static func message(_ seconds: Int64, _ body: MachineMessage.Body, machine: String = "M1", site: String = "S1") -> MachineMessage {
        MachineMessage(
            path: MachinePath(site: site, area: "A1", line: "L1", machine: machine), timestampMilliseconds: t0 + seconds * 1000, body: body)
    }

    /// A migrated database with site S1 (Europe/Berlin), area A1 and line L1.
    static func withPlant<T>(_ policy: UnknownMachinePolicy = .register, _ body: (MachineDataService, PGConnection, String) throws -> T) throws -> T {
        try TestDatabase.withMigrated { url, db in
            try db.execute("INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'Europe/Berlin')")
            try db.execute("INSERT INTO area (site_id, code, name) SELECT id, 'A1', 'Machining' FROM site")
            try db.execute("INSERT INTO line (area_id, code, name) SELECT id, 'L1', 'Line 1' FROM area")
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 2))
            defer { pool.close() }
            return try body(MachineDataService(pool: pool, unknownMachines: policy), db, url)
        }
    }

    static func intervals(_ db: PGConnection) throws -> [String] {
        try db.query("""
            SELECT state, coalesce(reason, '-'), extract(epoch FROM started_at)::bigint - 1795420800,
                   coalesce((extract(epoch FROM ended_at)::bigint - 1795420800)::text, 'open')
            FROM machine_state_interval ORDER BY started_at
            """).decode((String, String, Int64, String).self).map { "\($0.0) \($0.1) \($0.2)-\($0.3)" }
    }

    @Test func states_becomeIntervals_andAnUnknownMachineOnAKnownLineIsRegisteredThere() throws {
        try Self.withPlant { service, db, _ in
            let report = try service.ingest([
                Self.message(0, .state(.running, reason: nil)),
                Self.message(600, .state(.unplannedStop, reason: nil)),
                Self.message(900, .state(.running, reason: nil)),
            ])
            #expect(report.stored == 3 && report.duplicates == 0)
            #expect(try Self.intervals(db) == ["running - 0-600", "unplanned_stop - 600-900", "running - 900-open"])
            #expect(report.statusChanges == [MachineStatus(site: "S1", machine: "M1", state: .running, reason: nil, since: Self.t0 + 900_000)])
            let placed = try db.query("SELECT l.code FROM machine m JOIN line l ON l.id = m.line_id WHERE m.code = 'M1'").decode(String.self)
            #expect(placed == ["L1"])
            // The stop without a reason waits to be classified.
            let unclassified = try db.query("SELECT count(*) FROM machine_state_interval WHERE state = 'unplanned_stop' AND reason IS NULL").decode(Int64.self)
            #expect(unclassified == [1])

            // The next batch extends the open interval.
            let next = try service.ingest([Self.message(1200, .state(.setup, reason: "changeover"))])
            #expect(try Self.intervals(db).suffix(2) == ["running - 900-1200", "setup changeover 1200-open"])
            #expect(next.statusChanges.map(\.state) == [.setup])
            let status = try db.query("SELECT state, reason FROM machine_status").decode((String, String?).self)
            #expect(status.first?.0 == "setup" && status.first?.1 == "changeover")
        }
    }

    @Test func redelivery_isIdempotent() throws {
        try Self.withPlant { service, db, _ in
            let batch = [
                Self.message(0, .state(.running, reason: nil)),
                Self.message(10, .count(counter: "total", value: 100, part: "P-1")),
                Self.message(20, .count(counter: "total", value: 130, part: "P-1")),
                Self.message(30, .measurement(characteristic: "bore", value: 12.01, unit: "mm")),
            ]
            _ = try service.ingest(batch)
            let again = try service.ingest(batch + [batch[3]])
            #expect(again.stored == 0 && again.duplicates == 5 && again.statusChanges.isEmpty)
            let events = try db.query("SELECT count(*) FROM machine_event").decode(Int64.self)
            #expect(events == [4])
            #expect(try Self.intervals(db) == ["running - 0-open"])
            let parts = try db.query("SELECT sum(quantity)::bigint FROM production_count").decode(Int64.self)
            #expect(parts == [30])
        }
    }

    @Test func counters_continueAcrossBatches_andResetsAreRecorded() throws {
        try Self.withPlant { service, db, _ in
            _ = try service.ingest([Self.message(0, .count(counter: "good", value: 1_000, part: nil))])
            _ = try service.ingest([Self.message(60, .count(counter: "good", value: 1_040, part: nil))])
            let report = try service.ingest([
                Self.message(180, .count(counter: "good", value: 5, part: nil)),  // reset
                Self.message(120, .count(counter: "good", value: 1_070, part: nil)),  // out of order in the batch
            ])
            #expect(report.counterResets == 1)
            let counts = try db.query("SELECT quantity, counter_reset FROM production_count ORDER BY counted_at").decode((Int64, Bool).self)
            #expect(counts.map(\.0) == [40, 30, 5])
            #expect(counts.map(\.1) == [false, false, true])
            let last = try db.query("SELECT value FROM machine_counter").decode(Int64.self)
            #expect(last == [5])
        }
    }

    @Test func aLateStateChange_rederivesTheIntervalsItFallsIn() throws {
        try Self.withPlant { service, db, _ in
            _ = try service.ingest([
                Self.message(0, .state(.running, reason: nil)),
                Self.message(600, .state(.unplannedStop, reason: "jam")),
                Self.message(900, .state(.running, reason: nil)),
            ])
            // A message delayed in a spool arrives after later ones were stored.
            _ = try service.ingest([Self.message(300, .state(.idle, reason: nil))])
            #expect(try Self.intervals(db) == ["running - 0-300", "idle - 300-600", "unplanned_stop jam 600-900", "running - 900-open"])
            // Earlier than anything derived.
            _ = try service.ingest([Self.message(-60, .state(.setup, reason: nil))])
            #expect(try Self.intervals(db).prefix(2) == ["setup - -60-0", "running - 0-300"])
        }
    }

    @Test func alarms_areRaisedAndCleared() throws {
        try Self.withPlant { service, db, _ in
            _ = try service.ingest([
                Self.message(0, .alarm(code: "E42", text: "coolant low", active: true, severity: "warning")),
                Self.message(5, .alarm(code: "E42", text: "coolant low", active: true, severity: "warning")),
                Self.message(65, .alarm(code: "E42", text: nil, active: false, severity: nil)),
            ])
            let alarms = try db.query("""
                SELECT code, text, extract(epoch FROM cleared_at - raised_at)::bigint FROM machine_alarm
                """).decode((String, String?, Int64?).self)
            #expect(alarms.count == 1 && alarms[0].0 == "E42" && alarms[0].1 == "coolant low" && alarms[0].2 == 65)
        }
    }

    @Test func unknownSitesAndRefusedMachines_becomeDeadLetters_withTheCollectorsOwn() throws {
        try Self.withPlant(.refuse) { service, db, _ in
            let bad = DeadLetter(receivedAt: Date(), topic: "mes/S1/A1/L1/M1/state", payload: [0x7b, 0x00, 0xff], reason: "not valid JSON")
            let report = try service.ingest(
                [Self.message(0, .state(.running, reason: nil)), Self.message(0, .state(.running, reason: nil), site: "S9")], deadLetters: [bad])
            #expect(report.stored == 0 && report.deadLetters == 3)
            let letters = try db.query("SELECT topic, payload, reason FROM dead_letter ORDER BY id").decode((String, [UInt8], String).self)
            #expect(letters[0].1 == [0x7b, 0x00, 0xff] && letters[0].2 == "not valid JSON")
            #expect(letters[1].0 == "mes/S1/A1/L1/M1" && letters[1].2.hasPrefix("unknown machine 'M1' at site 'S1'"))
            #expect(letters[2].2.hasPrefix("unknown site 'S9'"))
        }
    }

    @Test func eachBatch_notifiesTheChangedStatuses() throws {
        try Self.withPlant { service, _, url in
            let listener = try PGConnection.connect(url: url, applicationName: "mes-tests")
            try listener.listen(MachineDataService.notifyChannel)
            _ = try service.ingest([
                Self.message(0, .state(.running, reason: nil)),
                Self.message(0, .state(.offline, reason: nil), machine: "M2"),
                Self.message(30, .count(counter: "total", value: 3, part: nil)),
            ])
            let notes = try listener.waitForNotifications(timeout: 5)
            #expect(notes.count == 1)
            let payload = try #require(notes.first?.payload)
            #expect(payload == #"{"machines":[{"machine":"M1","since":1795420800000,"site":"S1","state":"running"},{"machine":"M2","since":1795420800000,"site":"S1","state":"offline"}]}"#)
            // A batch that changes no state says nothing.
            _ = try service.ingest([Self.message(60, .count(counter: "total", value: 9, part: nil))])
            #expect(try listener.waitForNotifications(timeout: 0.3).isEmpty)
        }
    }

    @Test func anUnclassifiedStop_canBeSplitAndClassified() throws {
        try Self.withPlant { service, db, _ in
            _ = try service.ingest([
                Self.message(0, .state(.running, reason: nil)),
                Self.message(600, .state(.unplannedStop, reason: nil)),
                Self.message(1800, .state(.running, reason: nil)),
                Self.message(2400, .state(.unplannedStop, reason: nil)),
            ])
            let stops = try db.query("SELECT id FROM machine_state_interval WHERE state = 'unplanned_stop' ORDER BY started_at").decode(Int64.self)
            // The first stop was 10 minutes of breakdown, then 10 of waiting for the technician.
            let second = try service.split(intervalID: stops[0], at: Date(timeIntervalSince1970: Double(Self.t0) / 1000 + 1200))
            try service.classify(intervalID: stops[0], reason: "spindle fault")
            try service.classify(intervalID: second, reason: " waiting for technician ")
            #expect(try Self.intervals(db) == [
                "running - 0-600", "unplanned_stop spindle fault 600-1200", "unplanned_stop waiting for technician 1200-1800",
                "running - 1800-2400", "unplanned_stop - 2400-open",
            ])
            let sources = try db.query("SELECT count(*) FROM machine_state_interval WHERE reason_source = 'user'").decode(Int64.self)
            #expect(sources == [2])
            // The open stop: classifying it changes the wall screen's tile too.
            try service.classify(intervalID: stops[1], reason: "material jam")
            let status = try db.query("SELECT reason FROM machine_status").decode(String?.self)
            #expect(status == ["material jam"])
            // A later report of the same stop without a reason keeps the classification.
            _ = try service.ingest([Self.message(2500, .state(.unplannedStop, reason: nil))])
            #expect(try Self.intervals(db).last == "unplanned_stop material jam 2400-open")
        }
    }

    @Test func badClassifications_areRefused() throws {
        try Self.withPlant { service, db, _ in
            _ = try service.ingest([Self.message(0, .state(.unplannedStop, reason: nil)), Self.message(60, .state(.running, reason: nil))])
            let stop = try db.query("SELECT id FROM machine_state_interval ORDER BY started_at").decode(Int64.self)[0]
            #expect(throws: MachineDataError("a reason cannot be empty")) { try service.classify(intervalID: stop, reason: "  ") }
            #expect(throws: MachineDataError("state interval 999999 does not exist")) { try service.classify(intervalID: 999_999, reason: "x") }
            #expect(throws: MachineDataError("the split time must lie strictly inside the interval")) {
                try service.split(intervalID: stop, at: Date(timeIntervalSince1970: Double(Self.t0) / 1000 + 60))
            }
            #expect(try Self.intervals(db) == ["unplanned_stop - 0-60", "running - 60-open"])
        }
    }
}
