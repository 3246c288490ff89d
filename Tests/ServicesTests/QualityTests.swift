import Digest
import Domain
import Foundation
import Passwords
import Postgres
@testable import Services
import TestSupport
import Testing

/// The production fixture plus the people quality needs: ana and ben operate, quinn and
/// quentin are quality, sue and sam supervise; each one's password is "pw-" and their name.
struct QualityFixture {
    let plant: ProductionFixture
    let quality: QualityService
    let qualifications: QualificationService
    var db: PGConnection { plant.db }

    static func with<T>(_ body: (QualityFixture) throws -> T) throws -> T {
        try ProductionFixture.with { plant in
            try plant.db.executeScript(unsafeSQL: """
                INSERT INTO app_user (username, display_name) VALUES ('quinn', 'Quinn Q.'), ('quentin', 'Quentin R.'), ('sue', 'Sue S.'), ('sam', 'Sam T.');
                INSERT INTO user_role (user_id, role_code) SELECT id, 'operator' FROM app_user WHERE username IN ('ana', 'ben');
                INSERT INTO user_role (user_id, role_code) SELECT id, 'quality' FROM app_user WHERE username IN ('quinn', 'quentin');
                INSERT INTO user_role (user_id, role_code) SELECT id, 'supervisor' FROM app_user WHERE username IN ('sue', 'sam');
                """)
            for name in ["ana", "ben", "quinn", "quentin", "sue", "sam"] {
                let hash = try PasswordHash.make("pw-\(name)", iterations: 1_000).description
                try plant.db.execute("UPDATE app_user SET password_hash = \(hash) WHERE username = \(name)")
            }
            return try body(QualityFixture(
                plant: plant, quality: QualityService(pool: plant.pool, clock: plant.time.read),
                qualifications: QualificationService(pool: plant.pool, clock: plant.time.read)))
        }
    }

    func sign(_ name: String, _ meaning: SignatureMeaning = .approved, password: String? = nil, reason: String? = nil) -> SignatureRequest {
        SignatureRequest(username: name, password: password ?? "pw-\(name)", meaning: meaning, reason: reason)
    }

    /// Releases WO-1 and starts its turning operation as ana; returns the operation's id.
    func runningTurning() throws -> Int64 {
        try plant.service.release(workOrder: "WO-1")
        let turning = try plant.operationID("WO-1", 10)
        try plant.service.perform(.start, operationID: turning, by: "ana")
        return turning
    }

    func state(_ operationID: Int64) throws -> String {
        let states: [String] = try db.query("SELECT state FROM work_order_operation WHERE id = \(operationID)").decode(String.self)
        return states[0]
    }

    func count(_ sql: String) throws -> Int {
        let counts: [Int] = try db.query(SQL(unsafeRaw: sql)).decode(Int.self)
        return counts[0]
    }

    /// Defines the bore diameter of P-1 at operation 10: 25.000 ± 0.050 mm, I-MR.
    @discardableResult
    func bore(holdOnSignal: Bool = false, sampling: Int? = nil) throws -> Int64 {
        try quality.define(
            QualityService.CharacteristicSpec(
                part: "P-1", operationSequence: 10, code: "BORE", name: "Bore diameter", nominal: 25, lsl: 24.95, usl: 25.05,
                samplingMinutes: sampling, rules: [.n1, .n2, .n3], holdOnSignal: holdOnSignal),
            by: "quinn")
    }
}

func measure(_ values: [Double], _ q: QualityFixture, operation: Int64, key: String? = nil) throws -> QualityService.MeasurementResult {
    try q.quality.record(QualityService.MeasurementInput(
        target: .operation(operation), characteristic: "BORE", values: values, source: .operator, username: "ana", requestKey: key))
}

@Suite struct AuditTrailTests {
    @Test func productionChanges_areChained_andVerifyIntact() throws {
        try QualityFixture.with { q in
            let turning = try q.runningTurning()
            try q.plant.service.report(operationID: turning, .good, quantity: 3, by: "ana")
            try q.plant.service.perform(.pause, operationID: turning, by: "ana")
            let actions = try q.db.query("SELECT action FROM audit_log ORDER BY seq").decode(String.self)
            #expect(actions == ["work_order.released", "operation.start", "production.reported", "operation.pause"])
            let result = try AuditTrail.verify(q.plant.pool)
            #expect(result.intact)
            #expect(result.checked == 4)
            let chained = try q.db.query("SELECT count(*) FROM audit_log a JOIN audit_log b ON b.seq = a.seq + 1 WHERE b.previous_hash = a.hash")
                .decode(Int.self)
            #expect(chained == [3])
            let history = try AuditTrail.records(entity: "work_order_operation", id: String(turning), q.plant.pool)
            #expect(history.map(\.actor) == ["ana", "ana"])
            #expect(history.first?.after == #"{"state": "running"}"#)
        }
    }

    @Test func theApplicationCannotChangeOrRemoveRecords() throws {
        try QualityFixture.with { q in
            _ = try q.runningTurning()
            for statement in ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                              "DELETE FROM audit_log WHERE seq = 1", "TRUNCATE e_signature"] {
                #expect(throws: PGError.self) { try q.db.execute(SQL(unsafeRaw: statement)) }
            }
            #expect(try AuditTrail.verify(q.plant.pool).intact)
        }
    }

    /// Deployed as docs/quality.md says: the tables belong to the migrating role, and `mes`
    /// runs as another role that may not change the trail nor switch its triggers off.
    /// (The test PostgreSQL's role has CREATEROLE for this; scripts/pg-up.sh grants it.)
    @Test func anApplicationRoleThatDoesNotOwnTheTables_canAppendButNeverChange() throws {
        try QualityFixture.with { q in
            let role = "mes_app_" + String(UInt32.random(in: 0 ... .max), radix: 16)
            let database: [String] = try q.db.query("SELECT current_database()").decode(String.self)
            try q.db.executeScript(unsafeSQL: """
                CREATE ROLE \(role) LOGIN PASSWORD 'app-secret';
                GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO \(role);
                GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO \(role);
                REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, e_signature FROM \(role);
                """)
            defer {
                _ = try? q.db.executeScript(unsafeSQL: """
                    REVOKE ALL ON ALL TABLES IN SCHEMA public FROM \(role);
                    REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM \(role);
                    DROP ROLE \(role);
                    """)
            }
            let base = q.plant.pool.configuration.url
            let host = base[base.range(of: "@")!.upperBound...]
            let url = "postgresql://\(role):app-secret@" + host.prefix { $0 != "/" } + "/" + database[0]
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 2))
            defer { pool.close() }
            // The application works as usual, and its records are chained.
            try ProductionService(pool: pool).release(workOrder: "WO-1")
            try ProductionService(pool: pool).perform(.start, operationID: try q.plant.operationID("WO-1", 10), by: "ana")
            #expect(try AuditTrail.verify(pool).checked == 2)
            try pool.withConnection { app in
                for statement in ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log", "ALTER TABLE audit_log DISABLE TRIGGER USER",
                                  "DROP TRIGGER audit_log_append_only ON audit_log"] {
                    #expect { try app.execute(SQL(unsafeRaw: statement)) } throws: { ($0 as? PGError)?.sqlState == "42501" }
                }
            }
        }
    }

    /// Tampering by someone who can switch the triggers off (the database owner): each kind is
    /// found and named by record number.
    @Test func verify_findsAChangedARemovedAndAnInsertedRecord_andATruncatedTail() throws {
        try QualityFixture.with { q in
            let turning = try q.runningTurning()
            for _ in 0..<3 {
                try q.plant.service.perform(.pause, operationID: turning, by: "ana")
                try q.plant.service.perform(.start, operationID: turning, by: "ana")
            }
            let intact = try AuditTrail.verify(q.plant.pool)
            #expect(intact.intact && intact.checked == 8)
            let head = try #require(intact.head)
            try q.db.execute("ALTER TABLE audit_log DISABLE TRIGGER USER")

            // A changed record: who did it is rewritten.
            try q.db.execute("UPDATE audit_log SET actor = 'ben' WHERE seq = 3")
            var found = try AuditTrail.verify(q.plant.pool).problems
            #expect(found == ["record 3 (operation.pause on work_order_operation \(turning)) was changed after it was written: its content does not match its hash"])

            // Rewriting its hash too breaks the link to the next record.
            try q.db.execute("UPDATE audit_log SET hash = encode(sha256(convert_to(audit_log_canonical(audit_log), 'UTF8')), 'hex') WHERE seq = 3")
            found = try AuditTrail.verify(q.plant.pool).problems
            #expect(found == ["record 4 does not follow record 3: it names a previous hash the trail does not have"])

            // A removed record.
            try q.db.execute("DELETE FROM audit_log WHERE seq = 5")
            found = try AuditTrail.verify(q.plant.pool).problems
            #expect(found.contains("record 5 is missing: the trail jumps from 4 to 6"))

            // The tail cut off: only an anchor kept elsewhere can tell.
            try q.db.execute("DELETE FROM audit_log WHERE seq = 8")
            let anchored = try AuditTrail.verify(q.plant.pool, anchors: [head])
            #expect(anchored.problems.last == "the anchored record 8 is gone: the trail ends at 7")
        }
    }

    @Test func verify_readsLongTrailsInPages() throws {
        try QualityFixture.with { q in
            try q.db.execute("""
                INSERT INTO audit_log (at, actor, action, entity, entity_id, after)
                SELECT now(), 'system', 'test.filled', 'test', g::text, jsonb_build_object('n', g, 'text', 'ä€😀 "quoted"') FROM generate_series(1, 250) g
                """)
            let result = try AuditTrail.verify(q.plant.pool, pageSize: 100)
            #expect(result.intact)
            #expect(result.checked == 250)
            #expect(result.head?.seq == 250)
        }
    }
}

@Suite struct SignatureTests {
    @Test func wrongPasswords_areRefused_counted_audited_andLockTheAccount() throws {
        try QualityFixture.with { q in
            let turning = try q.runningTurning()
            let (nc, _) = try q.quality.openNonconformance(operationID: turning, description: "Chatter marks", quantity: 1, by: "ana")
            for _ in 0..<Credentials.maxFailures {
                rule(.signatureRejected) { try q.quality.disposition(nc, .useAsIs, reason: "Cosmetic", signature: q.sign("quinn", password: "guess")) }
            }
            // Locked now: even the right password is refused until the lock expires.
            rule(.signatureRejected) { try q.quality.disposition(nc, .useAsIs, reason: "Cosmetic", signature: q.sign("quinn")) }
            let refusals = try q.db.query("SELECT reason FROM audit_log WHERE action = 'signature.refused' ORDER BY seq").decode(String.self)
            #expect(refusals == ["wrong password", "wrong password", "wrong password", "wrong password", "wrong password; account locked", "account locked"])
            rule(.signatureRejected) { try q.quality.disposition(nc, .useAsIs, reason: "Cosmetic", signature: q.sign("nobody")) }
            q.plant.time.advance(Credentials.lockout + 1)
            try q.quality.disposition(nc, .useAsIs, reason: "Cosmetic", signature: q.sign("quinn"))
            #expect(try q.count("SELECT failed_attempts FROM app_user WHERE username = 'quinn'") == 0)
        }
    }

    @Test func signerRules_roleAndNotOwnWork_andTheSignedHashShowsLaterChanges() throws {
        try QualityFixture.with { q in
            let turning = try q.runningTurning()
            let (nc, _) = try q.quality.openNonconformance(operationID: turning, description: "Burr on edge", quantity: 2, by: "quinn")
            rule(.signerNotAllowed) { try q.quality.disposition(nc, .useAsIs, reason: "ok", signature: q.sign("sue")) }
            rule(.signerNotAllowed) { try q.quality.disposition(nc, .useAsIs, reason: "ok", signature: q.sign("quinn")) }
            rule(.reasonRequired) { try q.quality.disposition(nc, .useAsIs, reason: "  ", signature: q.sign("quentin")) }
            // Refusals change nothing.
            #expect(try q.count("SELECT count(*) FROM e_signature") == 0)
            try q.quality.disposition(nc, .useAsIs, reason: "Burr within drawing note 4", signature: q.sign("quentin", reason: "MRB 7"))
            rule(.invalidTransition) { try q.quality.disposition(nc, .scrap, reason: "again", signature: q.sign("quentin")) }

            var signatures = try q.quality.signatures(nonconformance: nc)
            #expect(signatures.count == 1)
            let signature = try #require(signatures.first)
            #expect((signature.signer, signature.signerName, signature.meaning, signature.reason) == ("quentin", "Quentin R.", .approved, "MRB 7"))
            #expect(signature.recordUnchanged)
            #expect(signature.recordHash.count == 64)
            let audited = try q.db.query("SELECT actor, after->>'record_hash' FROM audit_log WHERE action = 'signature.applied'").decode((String, String).self)
            #expect(audited.map(\.0) == ["quentin"] && audited.map(\.1) == [signature.recordHash])

            try q.db.execute("UPDATE nonconformance SET disposition_reason = 'edited later' WHERE id = \(nc)")
            signatures = try q.quality.signatures(nonconformance: nc)
            #expect(signatures.first?.recordUnchanged == false)
        }
    }
}

@Suite struct QualificationTests {
    @Test func startingNeedsAValidQualification_orASignedOverride() throws {
        try QualityFixture.with { q in
            try q.qualifications.define("TURN-1", description: "CNC turning, level 1", by: "quinn")
            try q.qualifications.require("TURN-1", part: "P-1", operation: 10, by: "quinn")
            try q.plant.service.release(workOrder: "WO-1")
            let turning = try q.plant.operationID("WO-1", 10)
            rule(.notQualified) { try q.plant.service.perform(.start, operationID: turning) }
            rule(.notQualified) { try q.plant.service.perform(.start, operationID: turning, by: "ana") }
            #expect(try q.qualifications.missing(operationID: turning, username: "ana") == ["TURN-1 (not held)"])

            // A qualification that has expired does not count, and says when it expired.
            try q.qualifications.grant("TURN-1", to: "ana", until: q.plant.time.read().addingTimeInterval(3_600), by: "quinn")
            q.plant.time.advance(7_200)
            #expect(throws: ProductionRuleError.self) { try q.plant.service.perform(.start, operationID: turning, by: "ana") }
            #expect(try q.qualifications.missing(operationID: turning, username: "ana") == ["TURN-1 (expired 2026-11-23T09:00:00Z)"])

            // ben is qualified; milling needs nothing.
            try q.qualifications.grant("TURN-1", to: "ben", until: q.plant.time.read().addingTimeInterval(86_400 * 365), by: "quinn")
            #expect(try q.plant.service.perform(.setUp, operationID: turning, by: "ben") == .setup)
            try q.plant.service.perform(.pause, operationID: turning, by: "ben")
            rule(.notQualified) { try q.plant.service.perform(.start, operationID: turning, by: "ana") }

            // The override: a supervisor, not the operator, with a reason and a signature.
            rule(.reasonRequired) { try q.qualifications.override(operationID: turning, operator: "ana", reason: "", signature: q.sign("sue")) }
            rule(.signerNotAllowed) { try q.qualifications.override(operationID: turning, operator: "ana", reason: "Renewal booked", signature: q.sign("quinn")) }
            rule(.signatureRejected) {
                try q.qualifications.override(operationID: turning, operator: "ana", reason: "Renewal booked", signature: q.sign("sue", password: "x"))
            }
            rule(.invalidInput) { try q.qualifications.override(operationID: turning, operator: "ben", reason: "Why not", signature: q.sign("sue")) }
            try q.qualifications.override(operationID: turning, operator: "ana", reason: "Renewal booked for Friday", signature: q.sign("sue"))
            #expect(try q.plant.service.perform(.start, operationID: turning, by: "ana") == .running)
            let logged = try q.db.query("SELECT actor, reason FROM audit_log WHERE action = 'qualification.overridden'").decode((String, String).self)
            #expect(logged.map(\.0) == ["sue"] && logged.map(\.1) == ["Renewal booked for Friday"])
            #expect(try q.count("SELECT count(*) FROM e_signature WHERE entity = 'qualification_override'") == 1)
        }
    }

    @Test func anOperatorCannotOverrideTheirOwnQualification() throws {
        try QualityFixture.with { q in
            try q.qualifications.define("TURN-1", description: "CNC turning", by: "quinn")
            try q.qualifications.require("TURN-1", part: "P-1", operation: 10, by: "quinn")
            try q.db.execute("INSERT INTO user_role (user_id, role_code) SELECT id, 'supervisor' FROM app_user WHERE username = 'ana'")
            try q.plant.service.release(workOrder: "WO-1")
            let turning = try q.plant.operationID("WO-1", 10)
            rule(.signerNotAllowed) { try q.qualifications.override(operationID: turning, operator: "ana", reason: "In a hurry", signature: q.sign("ana")) }
            rule(.notFound) { try q.qualifications.require("NOPE", part: "P-1", operation: 10, by: "quinn") }
            rule(.invalidInput) { try q.qualifications.grant("TURN-1", to: "ana", until: q.plant.time.read(), by: "quinn") }
        }
    }
}

@Suite struct HoldAndNonconformanceTests {
    @Test func aHold_pausesTheOperation_blocksIt_andOnlyQualityReleasesItWithAReason() throws {
        try QualityFixture.with { q in
            let turning = try q.runningTurning()
            rule(.reasonRequired) { try q.quality.placeHold(operationID: turning, reason: " ", by: "sue") }
            let hold = try q.quality.placeHold(operationID: turning, reason: "Coolant contamination suspected", by: "sue")
            #expect(try q.state(turning) == "paused")
            rule(.onHold) { try q.plant.service.perform(.start, operationID: turning, by: "ana") }
            rule(.onHold) { try q.plant.service.perform(.complete, operationID: turning, by: "ana") }
            rule(.signerNotAllowed) { try q.quality.releaseHold(hold, reason: "Checked", by: "sue") }
            rule(.reasonRequired) { try q.quality.releaseHold(hold, reason: "", by: "quinn") }
            #expect(try q.quality.openHolds().map(\.reason) == ["Coolant contamination suspected"])
            try q.quality.releaseHold(hold, reason: "Coolant replaced, samples fine", by: "quinn")
            rule(.invalidTransition) { try q.quality.releaseHold(hold, reason: "again", by: "quinn") }
            #expect(try q.plant.service.perform(.start, operationID: turning, by: "ana") == .running)
            let actions = try q.db.query("SELECT action FROM audit_log WHERE entity = 'quality_hold' ORDER BY seq").decode(String.self)
            #expect(actions == ["hold.placed", "hold.released"])
        }
    }

    @Test func aFailedInspection_opensANonconformance_andHoldsUntilItsDisposition() throws {
        try QualityFixture.with { q in
            try q.bore()
            let turning = try q.runningTurning()
            let good = try measure([25.01], q, operation: turning)
            #expect(good.inControl && good.nonconformanceID == nil && good.check == nil)
            let bad = try measure([25.07], q, operation: turning, key: "tablet-1")
            #expect(bad.outOfSpecification && !bad.inControl)
            let nc = try #require(bad.nonconformanceID)
            let hold = try #require(bad.holdID)
            #expect(try q.state(turning) == "paused")
            let description = try q.db.query("SELECT description FROM nonconformance WHERE id = \(nc)").decode(String.self)[0]
            #expect(description == "Bore diameter out of specification at WO-1 operation 10: 25.07 mm (specification 24.95 to 25.05 mm)")
            // The tablet resends the same form: nothing new.
            let again = try measure([25.07], q, operation: turning, key: "tablet-1")
            #expect(again.duplicate && again.measurementID == bad.measurementID)
            #expect(try q.count("SELECT count(*) FROM nonconformance") == 1)

            rule(.invalidTransition) { try q.quality.releaseHold(hold, reason: "Looks fine", by: "quinn") }
            rule(.reasonRequired) { try q.quality.investigate(nc, findings: "", by: "quinn") }
            try q.quality.investigate(nc, findings: "Insert worn; 1 part affected", by: "quinn")
            rule(.reasonRequired) {
                try q.quality.disposition(nc, .scrap, reason: "Oversize bore", quantity: 1, reasonCode: nil, signature: q.sign("quinn"))
            }
            try q.quality.disposition(nc, .scrap, reason: "Oversize bore cannot be saved", quantity: 1, reasonCode: "DIM", signature: q.sign("quinn"))
            let scrap = try q.db.query("SELECT quantity_scrap::float8 FROM work_order_operation WHERE id = \(turning)").decode(Double.self)
            #expect(scrap == [1])
            #expect(try q.plant.outbox().filter { $0.hasPrefix("scrap") }.count == 1)
            try q.quality.releaseHold(hold, reason: "Insert changed, first part checked", by: "quinn")
            #expect(try q.plant.service.perform(.start, operationID: turning, by: "ana") == .running)
        }
    }

    @Test func measurements_refuseTheWrongSubgroupSize_unknownCharacteristics_andNonNumbers() throws {
        try QualityFixture.with { q in
            try q.bore()
            let turning = try q.runningTurning()
            rule(.invalidInput) { _ = try measure([25, 25.01], q, operation: turning) }
            rule(.invalidInput) { _ = try measure([.nan], q, operation: turning) }
            rule(.notFound) {
                _ = try q.quality.record(.init(target: .operation(turning), characteristic: "LENGTH", values: [1], source: .api))
            }
            rule(.notFound) {
                _ = try q.quality.record(.init(target: .machine(site: "S1", machine: "M3"), characteristic: "BORE", values: [25], source: .gauge))
            }
            // A gauge that knows only its machine: the operation running there takes it.
            let gauged = try q.quality.record(.init(target: .machine(site: "S1", machine: "M1"), characteristic: "BORE", values: [25.002], source: .gauge))
            #expect(try q.db.query("SELECT operation_id, source FROM measurement WHERE id = \(gauged.measurementID)").decode((Int64, String).self)
                .map(\.0) == [turning])
            rule(.invalidInput) {
                try q.quality.define(.init(part: "P-1", operationSequence: 10, code: "OD", name: "Outer diameter", subgroupSize: 5, chart: .imr), by: "quinn")
            }
            rule(.invalidInput) {
                try q.quality.define(.init(part: "P-1", operationSequence: 10, code: "OD", name: "Outer diameter", lsl: 2, usl: 1), by: "quinn")
            }
        }
    }
}

@Suite struct GaugeTests {
    @Test func gaugeReadings_ofACharacteristicOfTheRunningOperation_areJudged_othersStayRaw() throws {
        try QualityFixture.with { q in
            try q.bore()
            let turning = try q.runningTurning()
            let machineData = MachineDataService(pool: q.plant.pool)
            let path = MachinePath(site: "S1", area: "A1", line: "L1", machine: "M1")
            let t0: Int64 = 1_795_420_900_000
            let batch = [
                MachineMessage(path: path, timestampMilliseconds: t0, body: .measurement(characteristic: "BORE", value: 25.001, unit: "mm")),
                MachineMessage(path: path, timestampMilliseconds: t0 + 1_000, body: .measurement(characteristic: "SPINDLE_TEMP", value: 41, unit: "C")),
                MachineMessage(path: path, timestampMilliseconds: t0 + 2_000, body: .measurement(characteristic: "BORE", value: 25.08, unit: "mm")),
            ]
            let report = try machineData.ingest(batch)
            #expect(report.stored == 3 && report.qualityPoints == 2)
            let points = try q.db.query("SELECT source, vals[1], out_of_spec, measured_at FROM measurement ORDER BY id").decode((String, Double, Bool, Date).self)
            #expect(points.map(\.0) == ["gauge", "gauge"] && points.map(\.1) == [25.001, 25.08] && points.map(\.2) == [false, true])
            #expect(points.first?.3 == Date(timeIntervalSince1970: 1_795_420_900))
            #expect(try q.count("SELECT count(*) FROM nonconformance") == 1)
            #expect(try q.state(turning) == "paused")
            // A redelivered batch is stored once and judged once.
            let again = try machineData.ingest(batch)
            #expect(again.duplicates == 3 && again.qualityPoints == 0)
            #expect(try q.count("SELECT count(*) FROM measurement") == 2)
        }
    }
}

@Suite struct LiveSPCTests {
    /// Montgomery's piston-ring data would do as well; here the numbers are built so each rule
    /// is plain: frozen limits 25.000 ± 3 × 0.01 mm.
    @Test func frozenLimits_aPointBeyond_raisesAnAlarm_notifiesTheWallScreen_andHolds() throws {
        try QualityFixture.with { q in
            let bore = try q.bore(holdOnSignal: true)
            let turning = try q.runningTurning()
            try q.quality.freezeLimits(characteristicID: bore, center: 25, sigma: 0.01, effectiveFrom: q.plant.time.read(), by: "quinn", reason: "Capability study 11/2026")
            let listener = try PGConnection.connect(url: q.plant.pool.configuration.url, applicationName: "mes-tests")
            try listener.listen(MachineDataService.notifyChannel)

            let first = try measure([25.005], q, operation: turning)
            #expect(first.inControl)
            let check = try #require(first.check)
            #expect(abs(check.ucl - 25.03) < 1e-9 && abs(check.lcl - 24.97) < 1e-9)
            q.plant.time.advance(60)
            let beyond = try measure([25.04], q, operation: turning)
            // Inside the specification (25.05) but beyond the control limit (25.03).
            #expect(!beyond.outOfSpecification)
            #expect(beyond.check?.signals == ["N1"])
            let alarm = try #require(beyond.alarmID)
            #expect(beyond.holdID != nil && beyond.nonconformanceID == nil)
            #expect(try q.state(turning) == "paused")

            let notes = try listener.waitForNotifications(timeout: 2)
            let payload = try #require(notes.first { $0.payload.contains("spc_alarms") }?.payload)
            #expect(payload.contains(#""machine" : "M1""#) || payload.contains(#""machine":"M1""#))
            #expect(payload.contains("BORE"))

            rule(.reasonRequired) { try q.quality.acknowledge(alarmID: alarm, by: "sue", note: "") }
            try q.quality.acknowledge(alarmID: alarm, by: "sue", note: "Tool offset corrected")
            rule(.invalidTransition) { try q.quality.acknowledge(alarmID: alarm, by: "sue", note: "again") }
        }
    }

    @Test func trialLimits_comeFromTheFirst25Points_thenARunOfNineSignals() throws {
        try QualityFixture.with { q in
            try q.bore()
            let turning = try q.runningTurning()
            // 25 points alternating about 25.000: center 25.000, MR̄ 0.004, sigma 0.004/1.128.
            var results: [QualityService.MeasurementResult] = []
            for i in 0..<25 { results.append(try measure([i % 2 == 0 ? 24.998 : 25.002], q, operation: turning)) }
            #expect(results.dropLast().allSatisfy { $0.check == nil })
            let trial = try #require(results.last?.check)
            #expect(abs(trial.center - 25.0) < 1e-4)
            #expect(abs(trial.ucl - (25.0 + 3 * 0.004 / 1.128)) < 1e-4)
            // Nine in a row above the center (within the limits) is Nelson's test 2.
            var signals: [[String]] = []
            for i in 0..<9 { signals.append(try measure([25.001 + Double(i % 2) * 0.0005], q, operation: turning).check?.signals ?? []) }
            #expect(signals.dropLast().allSatisfy { $0.isEmpty })
            #expect(signals.last == ["N2"])
            #expect(try q.count("SELECT count(*) FROM spc_alarm") == 1)
            // Not holding on signals: the operation runs on.
            #expect(try q.state(turning) == "running")
        }
    }

    @Test func sampling_isOkThenComingDueThenOverdue() throws {
        try QualityFixture.with { q in
            try q.bore(sampling: 60)
            let turning = try q.runningTurning()
            #expect(try q.quality.sampling(operationID: turning).map(\.status) == [.ok])
            q.plant.time.advance(50 * 60)
            #expect(try q.quality.sampling(operationID: turning).map(\.status) == [.comingDue])
            q.plant.time.advance(11 * 60)
            #expect(try q.quality.sampling(operationID: turning).map(\.status) == [.overdue])
            _ = try measure([25], q, operation: turning)
            let due = try q.quality.sampling(operationID: turning)
            #expect(due.map(\.status) == [.ok])
            #expect(due.first?.dueAt == q.plant.time.read().addingTimeInterval(3_600))
        }
    }
}

@Suite struct LivePointCheckTests {
    @Test func subgroupCharts_useTheRangeOrSigmaOfTheWindow() throws {
        let rules = SPCRuleEvaluator(rules: [.n1])
        // Frozen: center 10, sigma 1, n = 4: the X̄ limits are 10 ± 1.5.
        let window = [[10, 10.5, 9.5, 10], [11, 12, 12, 13]]
        let check = try #require(try LivePointCheck.judge(window, chart: .xbarR, limits: .frozen(center: 10, sigma: 1), rules: rules))
        #expect(abs(check.ucl - 11.5) < 1e-12 && abs(check.lcl - 8.5) < 1e-12)
        #expect(check.signals == ["N1"])
        // A single point is judged against the limits alone.
        let single = try #require(try LivePointCheck.judge([[7, 7, 7, 7]], chart: .xbarS, limits: .frozen(center: 10, sigma: 1), rules: rules))
        #expect(single.signals == ["N1"])
        #expect(try LivePointCheck.judge([[1]], chart: .imr, limits: .trial([[1]]), rules: rules) == nil)
    }
}
