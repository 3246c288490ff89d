import Domain
import Foundation
import Postgres
import Services
import TestSupport
import Testing

/// A plant with two machines, a part with a two-operation routing, two operators, reason
/// codes and a planned work order WO-1 for 10 parts, in a fresh migrated database.
struct ProductionFixture {
    let db: PGConnection
    let pool: PGPool
    let service: ProductionService

    static func with<T>(_ body: (ProductionFixture) throws -> T) throws -> T {
        try TestDatabase.withMigrated { url, db in
            try db.executeScript(unsafeSQL: """
                INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'Europe/Berlin');
                INSERT INTO area (site_id, code, name) SELECT id, 'A1', 'Machining' FROM site;
                INSERT INTO line (area_id, code, name) SELECT id, 'L1', 'Line 1' FROM area;
                INSERT INTO machine (site_id, line_id, code, name) SELECT s.id, l.id, m, m FROM site s, line l, unnest(ARRAY['M1', 'M2', 'M3']) m;
                INSERT INTO part (code, name) VALUES ('P-1', 'Drive shaft');
                INSERT INTO routing (part_id, name) SELECT id, 'P-1 routing' FROM part;
                INSERT INTO routing_operation (routing_id, sequence, name, machine_id, ideal_cycle_seconds)
                    SELECT r.id, 10, 'Turning', m.id, 30 FROM routing r, machine m WHERE m.code = 'M1';
                INSERT INTO routing_operation (routing_id, sequence, name, machine_id, ideal_cycle_seconds)
                    SELECT r.id, 20, 'Milling', m.id, 45 FROM routing r, machine m WHERE m.code = 'M2';
                INSERT INTO app_user (username, display_name, employee_ref) VALUES ('ana', 'Ana', '1'), ('ben', 'Ben', '2');
                INSERT INTO reason_code (kind, code, description) VALUES ('scrap', 'DIM', 'Out of tolerance'), ('rework', 'BURR', 'Burr');
                INSERT INTO reason_code (kind, code, description, active) VALUES ('scrap', 'OLD', 'Retired reason', false);
                INSERT INTO work_order (number, part_id, routing_id, site_id, quantity_planned, erp_ref)
                    SELECT 'WO-1', p.id, r.id, s.id, 10, '7' FROM part p, routing r, site s;
                INSERT INTO work_order (number, part_id, routing_id, site_id, quantity_planned)
                    SELECT 'WO-2', p.id, r.id, s.id, 5 FROM part p, routing r, site s;
                """)
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 6))
            defer { pool.close() }
            return try body(ProductionFixture(db: db, pool: pool, time: TestClock()))
        }
    }

    let time: TestClock

    init(db: PGConnection, pool: PGPool, time: TestClock) {
        self.db = db
        self.pool = pool
        self.time = time
        service = ProductionService(pool: pool, clock: time.read)
    }

    func operationID(_ order: String, _ sequence: Int) throws -> Int64 {
        let ids: [Int64] = try db.query("""
            SELECT o.id FROM work_order_operation o JOIN work_order wo ON wo.id = o.work_order_id
            WHERE wo.number = \(order) AND o.sequence = \(sequence)
            """).decode(Int64.self)
        return ids[0]
    }

    func outbox() throws -> [String] {
        try db.query("SELECT kind || ' ' || idempotency_key FROM erp_outbox ORDER BY id").decode(String.self)
    }
}

func rule(_ code: ProductionRuleError.Code, _ body: () throws -> Void) {
    #expect {
        try body()
    } throws: { error in
        (error as? ProductionRuleError)?.code == code
    }
}

struct ProductionServiceTests {
    @Test func release_copiesTheRoutingsOperations_once() throws {
        try ProductionFixture.with { plant in
            let operations = try plant.service.release(workOrder: "WO-1")
            #expect(operations.map { "\($0.sequence) \($0.name) \($0.machine ?? "-") \($0.state.rawValue)" } == ["10 Turning M1 queued", "20 Milling M2 queued"])
            rule(.invalidTransition) { try plant.service.release(workOrder: "WO-1") }
            rule(.notFound) { try plant.service.release(workOrder: "WO-404") }
            let state = try plant.db.query("SELECT state FROM work_order WHERE number = 'WO-1'").decode(String.self)
            #expect(state == ["released"])
        }
    }

    @Test func guards_refuseWorkOnAnUnreleasedOrder_aBusyMachine_andImpossibleTransitions() throws {
        try ProductionFixture.with { plant in
            // Operations that came from the ERP with a planned order.
            try plant.db.execute("""
                INSERT INTO work_order_operation (work_order_id, sequence, name, machine_id)
                SELECT wo.id, 10, 'Turning', m.id FROM work_order wo, machine m WHERE wo.number = 'WO-2' AND m.code = 'M1'
                """)
            let unreleased = try plant.operationID("WO-2", 10)
            rule(.orderNotReleased) { try plant.service.perform(.start, operationID: unreleased) }

            try plant.service.release(workOrder: "WO-1")
            let turning = try plant.operationID("WO-1", 10)
            rule(.invalidTransition) { try plant.service.perform(.complete, operationID: turning) }
            rule(.invalidTransition) { try plant.service.perform(.pause, operationID: turning) }
            #expect(try plant.service.perform(.start, operationID: turning, by: "ana") == .running)
            rule(.invalidTransition) { try plant.service.perform(.setUp, operationID: turning) }

            // WO-2, released, wants M1 too.
            try plant.db.execute("UPDATE work_order SET state = 'released', released_at = now() WHERE number = 'WO-2'")
            rule(.machineBusy) { try plant.service.perform(.setUp, operationID: unreleased) }
            #expect(try plant.service.perform(.pause, operationID: turning) == .paused)
            #expect(try plant.service.perform(.setUp, operationID: unreleased) == .setup)
            rule(.machineBusy) { try plant.service.perform(.start, operationID: turning) }
            // A machine that allows parallel operations takes both.
            try plant.db.execute("UPDATE machine SET parallel_operations = true WHERE code = 'M1'")
            #expect(try plant.service.perform(.start, operationID: turning) == .running)

            // An operation without a machine cannot start; dispatch gives it one.
            try plant.db.execute("UPDATE work_order_operation SET machine_id = NULL WHERE id = \(try plant.operationID("WO-1", 20))")
            let milling = try plant.operationID("WO-1", 20)
            rule(.noMachine) { try plant.service.perform(.start, operationID: milling) }
            rule(.notFound) { try plant.service.dispatch(operationID: milling, machine: "M9") }
            try plant.service.dispatch(operationID: milling, machine: "M3", operator: "ben")
            #expect(try plant.service.perform(.start, operationID: milling) == .running)
            rule(.invalidTransition) { try plant.service.dispatch(operationID: milling, machine: "M2") }
            let order = try plant.db.query("SELECT state FROM work_order WHERE number = 'WO-1'").decode(String.self)
            #expect(order == ["in_progress"])
        }
    }

    @Test func quantities_needAStartedOperation_positiveNumbers_andReasonsForScrapAndRework() throws {
        try ProductionFixture.with { plant in
            try plant.service.release(workOrder: "WO-1")
            let turning = try plant.operationID("WO-1", 10)
            rule(.invalidTransition) { try plant.service.report(operationID: turning, .good, quantity: 1) }
            try plant.service.perform(.start, operationID: turning)
            rule(.badQuantity) { try plant.service.report(operationID: turning, .good, quantity: 0) }
            rule(.badQuantity) { try plant.service.report(operationID: turning, .good, quantity: -2) }
            rule(.badQuantity) { try plant.service.report(operationID: turning, .good, quantity: .nan) }
            rule(.reasonRequired) { try plant.service.report(operationID: turning, .scrap, quantity: 1) }
            rule(.reasonRequired) { try plant.service.report(operationID: turning, .scrap, quantity: 1, reason: "NOPE") }
            rule(.reasonRequired) { try plant.service.report(operationID: turning, .scrap, quantity: 1, reason: "OLD") }
            rule(.reasonRequired) { try plant.service.report(operationID: turning, .rework, quantity: 1, reason: "DIM") }

            let first = try plant.service.report(operationID: turning, .good, quantity: 4, by: "ana", requestKey: "form-1")
            // The tablet lost the answer and sent the form again.
            let again = try plant.service.report(operationID: turning, .good, quantity: 4, by: "ana", requestKey: "form-1")
            guard case .recorded(let id) = first else { Issue.record("not recorded"); return }
            #expect(again == .duplicate(id: id))
            try plant.service.report(operationID: turning, .scrap, quantity: 1, reason: "DIM", note: "bore 12.05")
            try plant.service.report(operationID: turning, .rework, quantity: 2, reason: "BURR")
            let status = try plant.service.operations(workOrder: "WO-1")[0]
            #expect(status.good == 4 && status.scrap == 1 && status.rework == 2)
            #expect(try plant.outbox() == ["scrap scrap:2"])
        }
    }

    @Test func aWholeOrder_booksLabor_andQueuesItsMessagesForTheERPInOrder() throws {
        try ProductionFixture.with { plant in
            try plant.service.release(workOrder: "WO-1")
            let turning = try plant.operationID("WO-1", 10)
            let milling = try plant.operationID("WO-1", 20)
            try plant.service.signIn("ana", machine: "M1", site: "S1")
            plant.time.advance(60)
            try plant.service.perform(.setUp, operationID: turning, by: "ana")
            plant.time.advance(600)
            try plant.service.perform(.start, operationID: turning, by: "ana")
            plant.time.advance(1200)
            try plant.service.perform(.pause, operationID: turning, by: "ana")
            plant.time.advance(300)  // paused: no labor, no run time
            try plant.service.perform(.start, operationID: turning, by: "ana")
            try plant.service.report(operationID: turning, .good, quantity: 9)
            try plant.service.report(operationID: turning, .scrap, quantity: 1, reason: "DIM")
            plant.time.advance(1800)
            try plant.service.perform(.complete, operationID: turning, by: "ana")
            plant.time.advance(120)
            // Signing out books nothing more: nothing ran at M1 since the completion.
            #expect(try plant.service.signOut("ana", machine: "M1", site: "S1").isEmpty)
            rule(.operatorNotSignedIn) { try plant.service.signOut("ana", machine: "M1", site: "S1") }

            let labor = try plant.db.query("SELECT extract(epoch FROM ended_at - started_at)::float8 FROM labor_booking ORDER BY started_at")
                .decode(Double.self)
            #expect(labor == [600, 1200, 1800])

            try plant.service.signIn("ben", machine: "M2", site: "S1")
            try plant.service.perform(.start, operationID: milling, by: "ben")
            plant.time.advance(900)
            try plant.service.report(operationID: milling, .good, quantity: 8)
            try plant.service.report(operationID: milling, .scrap, quantity: 1, reason: "DIM")
            plant.time.advance(100)
            #expect(try plant.service.signOut("ben", machine: "M2", site: "S1") == [milling: 1000])
            try plant.service.perform(.complete, operationID: milling, by: "ben")

            #expect(try plant.outbox() == [
                "scrap scrap:2", "labor labor:1", "labor labor:2", "labor labor:3", "operation_done operation:1",
                "scrap scrap:4", "labor labor:4", "operation_done operation:2", "order_done order:1",
            ])
            let done = try plant.db.query("""
                SELECT payload->>'runSeconds', payload->>'setupSeconds', payload->>'good', payload->>'scrap', payload->>'employeeRef',
                       payload->'operation'->>'workOrderRef', payload->'operation'->>'sequence'
                FROM erp_outbox WHERE idempotency_key = 'operation:1'
                """).decode((String, String, String, String, String, String, String).self)
            #expect(done.first.map { [$0.0, $0.1, $0.2, $0.3, $0.4, $0.5, $0.6] } == ["3000", "600", "9", "1", "1", "7", "10"])
            let order = try plant.db.query("""
                SELECT payload->>'good', payload->>'scrap', payload->>'workOrderRef' FROM erp_outbox WHERE kind = 'order_done'
                """).decode((String, String, String).self)
            #expect(order.first.map { [$0.0, $0.1, $0.2] } == ["8", "2", "7"])
            let ledger = try Outbox.ledger(state: "pending", plant.pool)
            #expect(ledger.count == 9 && ledger.first?.kind == "order_done")
            let state = try plant.db.query("SELECT state, completed_at IS NOT NULL FROM work_order WHERE number = 'WO-1'").decode((String, Bool).self)
            #expect(state.first?.0 == "completed" && state.first?.1 == true)
        }
    }
}

extension ProductionServiceTests {
    @Test func wip_followsPartsFromOperationToOperation_oldestFirst() throws {
        try ProductionFixture.with { plant in
            try plant.service.release(workOrder: "WO-1")
            let turning = try plant.operationID("WO-1", 10)
            let milling = try plant.operationID("WO-1", 20)
            #expect(try plant.service.workInProcess(site: "S1").isEmpty)

            try plant.service.perform(.start, operationID: turning)  // t = 0: 10 parts at turning
            plant.time.advance(600)
            try plant.service.report(operationID: turning, .good, quantity: 4)  // t = 600: 4 reach milling
            plant.time.advance(600)
            try plant.service.report(operationID: turning, .good, quantity: 3)  // t = 1200: 3 more
            try plant.service.report(operationID: turning, .scrap, quantity: 1, reason: "DIM")
            try plant.service.perform(.start, operationID: milling)
            try plant.service.report(operationID: milling, .good, quantity: 2)  // uses the oldest lot first
            plant.time.advance(300)  // t = 1500

            let wip = try plant.service.workInProcess(site: "S1")
            #expect(wip.map(\.operation) == ["0010 Turning", "0020 Milling"])
            // Turning: 10 − 4 − 3 − 1 = 2 parts, there since t = 0.
            #expect(wip[0] == WIPSummary(operation: "0010 Turning", quantity: 2, lots: 1, oldestAgeSeconds: 1500, meanAgeSeconds: 1500))
            // Milling: 2 left of the lot from t = 600 (age 900), 3 from t = 1200 (age 300).
            #expect(wip[1] == WIPSummary(operation: "0020 Milling", quantity: 5, lots: 2, oldestAgeSeconds: 900, meanAgeSeconds: (2 * 900 + 3 * 300) / 5.0))
        }
    }
}

extension ProductionServiceTests {
    @Test func scheduleAttainment_countsOnlyOutputMadeByTheEndOfTheSiteLocalDueDay() throws {
        try ProductionFixture.with { plant in
            // Due 2026-11-23 in Berlin (the fixture clock starts 08:00 UTC = 09:00 local);
            // WO-2 is due at 23:30 UTC, which is already the 24th in Berlin.
            try plant.db.execute("UPDATE work_order SET due_at = '2026-11-23 16:00Z' WHERE number = 'WO-1'")
            try plant.db.execute("UPDATE work_order SET due_at = '2026-11-23 23:30Z' WHERE number = 'WO-2'")
            try plant.service.release(workOrder: "WO-1")
            try plant.service.release(workOrder: "WO-2")
            try plant.db.execute("UPDATE machine SET parallel_operations = true")
            let last = try plant.operationID("WO-1", 20)
            try plant.service.perform(.start, operationID: try plant.operationID("WO-1", 10))
            try plant.service.perform(.start, operationID: last)
            try plant.service.report(operationID: try plant.operationID("WO-1", 10), .good, quantity: 10)  // not the last operation
            try plant.service.report(operationID: last, .good, quantity: 7)
            plant.time.advance(17 * 3600)  // 23:00 UTC: past midnight in Berlin
            try plant.service.report(operationID: last, .good, quantity: 3)

            let days = try plant.service.scheduleAttainment(
                site: "S1", from: Date(timeIntervalSince1970: 1_795_392_000), to: Date(timeIntervalSince1970: 1_795_392_000 + 3 * 86_400))
            #expect(days == [
                DayAttainment(day: "2026-11-23", planned: 10, produced: 7, attainment: 0.7),
                DayAttainment(day: "2026-11-24", planned: 5, produced: 0, attainment: 0),
            ])
        }
    }
}

extension ProductionServiceTests {
    @Test func shiftAttainment_givesEachOrderToItsShift_orToTheLastShiftBeforeIt_andCountsOutputByTheShiftsEnd() throws {
        try ProductionFixture.with { plant in
            // Early 06:00–14:00 and Late 14:00–22:00 Berlin time (05:00–13:00 and 13:00–21:00 UTC
            // in November), Monday to Friday. WO-1 is due Monday 12:00 local, in the early shift;
            // WO-2 at 23:00 local, after every shift of the day: the late shift's.
            try plant.db.execute("""
                INSERT INTO shift_pattern (site_id, name, start_minute, end_minute, weekdays, breaks)
                SELECT id, 'Early', 360, 840, '12345', '[{"start_minute": 570, "minutes": 15}]' FROM site
                """)
            try plant.db.execute("INSERT INTO shift_pattern (site_id, name, start_minute, end_minute) SELECT id, 'Late', 840, 1320 FROM site")
            try plant.db.execute("UPDATE work_order SET due_at = '2026-11-23 11:00Z' WHERE number = 'WO-1'")
            try plant.db.execute("UPDATE work_order SET due_at = '2026-11-23 22:00Z' WHERE number = 'WO-2'")
            try plant.service.release(workOrder: "WO-1")
            try plant.service.release(workOrder: "WO-2")
            try plant.db.execute("UPDATE machine SET parallel_operations = true")
            for order in ["WO-1", "WO-2"] {
                try plant.service.perform(.start, operationID: try plant.operationID(order, 10))
                try plant.service.perform(.start, operationID: try plant.operationID(order, 20))
            }
            plant.time.advance(3 * 3600)  // the fixture's clock starts at 08:00 UTC: 11:00, in the early shift
            try plant.service.report(operationID: try plant.operationID("WO-1", 20), .good, quantity: 6)
            plant.time.advance(3 * 3600)  // 14:00 UTC, after it
            try plant.service.report(operationID: try plant.operationID("WO-1", 20), .good, quantity: 4)
            plant.time.advance(6 * 3600)  // 20:00 UTC, still in the late shift
            try plant.service.report(operationID: try plant.operationID("WO-2", 20), .good, quantity: 5)

            let monday = Date(timeIntervalSince1970: 1_795_388_400)  // 2026-11-23 00:00 Berlin
            let shifts = try plant.service.shiftAttainment(site: "S1", from: monday, to: monday.addingTimeInterval(86_400))
            #expect(shifts.map { "\($0.day) \($0.shift) \($0.planned) \($0.produced) \($0.attainment.map { String($0) } ?? "-")" }
                == ["2026-11-23 Early 10.0 6.0 0.6", "2026-11-23 Late 5.0 5.0 1.0"])
            #expect(shifts.first?.start == Date(timeIntervalSince1970: 1_795_410_000))  // 05:00 UTC

            try plant.db.execute("DELETE FROM shift_pattern")
            rule(.notFound) { _ = try plant.service.shiftAttainment(site: "S1", from: monday, to: monday.addingTimeInterval(86_400)) }
        }
    }
}
