import Digest
import Domain
import Foundation
import JSON
import Passwords
import Postgres
@testable import Services
import TestSupport
import Testing

/// A tiny PNG header and a JPEG header: enough for the content check, which reads signatures.
let pngBytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 32)
let jpegBytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 1, count: 32)

@Suite struct GenealogyTests {
    /// Bar stock lot H-77 is turned into blanks lot B-1 (operation 10), and the blanks are
    /// milled into serials S-1 and S-2 (operation 20); a second bar lot H-78 feeds S-2 too.
    func plant(_ q: QualityFixture) throws -> GenealogyService {
        let genealogy = GenealogyService(pool: q.plant.pool, clock: q.plant.time.read)
        try q.db.execute("INSERT INTO part (code, name, unit) VALUES ('BAR-42', 'Bar stock 42 mm', 'kg'), ('P-1-BLANK', 'Shaft blank', 'pcs')")
        try genealogy.receive(.init(part: "BAR-42", lot: "H-77", quantity: 100), by: "ben")
        try genealogy.receive(.init(part: "BAR-42", lot: "H-78", quantity: 50), by: "ben")
        let turning = try q.runningTurning()
        try genealogy.record(
            operationID: turning, consumed: [.init(part: "BAR-42", lot: "H-77", quantity: 20)],
            produced: [.init(part: "P-1-BLANK", lot: "B-1", quantity: 10)], by: "ana", requestKey: "gen-1")
        let milling = try q.plant.operationID("WO-1", 20)
        try q.plant.service.perform(.start, operationID: milling, by: "ben")
        try genealogy.record(
            operationID: milling, consumed: [.init(part: "P-1-BLANK", lot: "B-1", quantity: 1)], produced: [.serial(part: "P-1", "S-1")], by: "ben")
        try genealogy.record(
            operationID: milling, consumed: [.init(part: "P-1-BLANK", lot: "B-1", quantity: 1), .init(part: "BAR-42", lot: "H-78", quantity: 2)],
            produced: [.serial(part: "P-1", "S-2")], by: "ben")
        return genealogy
    }

    @Test func traces_goBothWays_withWhereWhoAndWhen() throws {
        try QualityFixture.with { q in
            let genealogy = try plant(q)
            let back = try genealogy.trace(part: "P-1", lot: "S-2", .backward)
            #expect(back.map { "\($0.depth) \($0.part) \($0.lot) via \($0.via)" } == [
                "1 BAR-42 H-78 via S-2", "1 P-1-BLANK B-1 via S-2", "2 BAR-42 H-77 via B-1",
            ])
            let blank = try #require(back.first { $0.lot == "B-1" })
            #expect((blank.workOrder, blank.operation, blank.machine, blank.operatorName) == ("WO-1", 20, "M2", "ben"))
            let forward = try genealogy.trace(part: "BAR-42", lot: "H-77", .forward)
            #expect(forward.map { "\($0.depth) \($0.lot)" } == ["1 B-1", "2 S-1", "2 S-2"])
            let impact = try genealogy.recallImpact(part: "BAR-42", lot: "H-77")
            #expect(impact.map { "\($0.lot) \($0.endItem)" } == ["B-1 false", "S-1 true", "S-2 true"])
            // The same request again is the same record.
            let again = try genealogy.record(
                operationID: try q.plant.operationID("WO-1", 10), consumed: [.init(part: "BAR-42", lot: "H-77", quantity: 20)],
                produced: [.init(part: "P-1-BLANK", lot: "B-1", quantity: 10)], by: "ana", requestKey: "gen-1")
            #expect(try q.count("SELECT count(*) FROM lot_transformation") == 3)
            #expect(again > 0)
        }
    }

    @Test func refusals_heldLots_overuse_duplicateOutputs_andSerialsOfMoreThanOne() throws {
        try QualityFixture.with { q in
            let genealogy = try plant(q)
            let milling = try q.plant.operationID("WO-1", 20)
            rule(.badQuantity) {
                try genealogy.record(operationID: milling, consumed: [.init(part: "P-1-BLANK", lot: "B-1", quantity: 9)], produced: [.serial(part: "P-1", "S-3")], by: "ben")
            }
            rule(.invalidInput) {
                try genealogy.record(operationID: milling, consumed: [], produced: [.serial(part: "P-1", "S-1")], by: "ben")
            }
            rule(.badQuantity) {
                try genealogy.record(operationID: milling, consumed: [], produced: [.init(part: "P-1", lot: "S-9", quantity: 2, kind: .serial)], by: "ben")
            }
            rule(.notFound) {
                try genealogy.record(operationID: milling, consumed: [.init(part: "BAR-42", lot: "H-99", quantity: 1)], produced: [.serial(part: "P-1", "S-4")], by: "ben")
            }
            try q.quality.placeHold(part: "BAR-42", lot: "H-78", reason: "Mill certificate missing", by: "quinn")
            rule(.onHold) {
                try genealogy.record(operationID: milling, consumed: [.init(part: "BAR-42", lot: "H-78", quantity: 1)], produced: [.serial(part: "P-1", "S-5")], by: "ben")
            }
            // Nothing of the refused records was kept.
            #expect(try q.count("SELECT count(*) FROM lot WHERE code IN ('S-3', 'S-4', 'S-5', 'S-9')") == 0)
            let impact = try genealogy.recallImpact(part: "BAR-42", lot: "H-78")
            #expect(impact.map(\.lot) == ["S-2"])
        }
    }

    @Test func csv_quotesWhatNeedsIt_andDefusesFormulas() throws {
        let at = Date(timeIntervalSince1970: 1_795_420_800)
        let steps = [
            GenealogyService.TraceStep(
                depth: 1, part: "P-1", lot: "=HYPERLINK(\"x\")", kind: .lot, quantity: 2.5, via: "A,B", workOrder: "WO-1", operation: 10, machine: "M1",
                operatorName: nil, at: at)
        ]
        #expect(GenealogyService.csv(steps) == """
            depth,part,lot,kind,quantity,via,work_order,operation,machine,operator,at\r
            1,P-1,"'=HYPERLINK(""x"")",lot,2.5,"A,B",WO-1,10,M1,,2026-11-23T08:00:00Z\r

            """)
    }
}

@Suite struct EvidenceTests {
    @Test func scrapPhotos_areCheckedByContent_storedOnce_andLinked() throws {
        try QualityFixture.with { q in
            let turning = try q.runningTurning()
            let photo = Upload(bytes: jpegBytes, fileName: "../../etc/scrap 1.jpg", contentType: "image/jpeg")
            try q.plant.service.report(operationID: turning, .scrap, quantity: 1, reason: "DIM", photo: photo, by: "ana")
            try q.plant.service.report(operationID: turning, .scrap, quantity: 1, reason: "DIM", photo: photo, by: "ana")
            let stored = try q.db.query("SELECT sha256, content_type, byte_size, file_name FROM attachment").decode((String, String, Int, String?).self)
            #expect(stored.count == 1)
            #expect(stored.first?.0 == hex(SHA256.hash(jpegBytes)))
            #expect(stored.first?.1 == "image/jpeg" && stored.first?.2 == jpegBytes.count && stored.first?.3 == "scrap 1.jpg")
            #expect(try q.count("SELECT count(*) FROM production_report WHERE attachment_id IS NOT NULL") == 2)
            let content = try Attachments.content(sha256: stored[0].0, q.plant.pool)
            #expect(content?.bytes == jpegBytes)

            rule(.invalidInput) {
                try q.plant.service.report(operationID: turning, .scrap, quantity: 1, reason: "DIM", photo: Upload(bytes: Array("<svg/>".utf8)), by: "ana")
            }
            rule(.invalidInput) {
                try q.plant.service.report(
                    operationID: turning, .scrap, quantity: 1, reason: "DIM", photo: Upload(bytes: pngBytes, contentType: "image/jpeg"), by: "ana")
            }
            rule(.invalidInput) {
                try q.plant.service.report(
                    operationID: turning, .scrap, quantity: 1, reason: "DIM", photo: Upload(bytes: jpegBytes + [UInt8](repeating: 0, count: Attachments.maxBytes)),
                    by: "ana")
            }
            rule(.invalidInput) { try q.plant.service.report(operationID: turning, .scrap, quantity: 1, reason: "DIM", photo: Upload(bytes: []), by: "ana") }
            // The refused reports left no scrap behind.
            #expect(try q.count("SELECT count(*) FROM production_report WHERE kind = 'scrap'") == 2)
            #expect(Attachments.sniff(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8)) == "image/webp")
        }
    }
}

@Suite struct WorkInstructionTests {
    @Test func drafts_releaseBySignature_notByTheAuthor_andNewVersionsSupersede() throws {
        try QualityFixture.with { q in
            let instructions = WorkInstructionService(pool: q.plant.pool, clock: q.plant.time.read)
            let picture = try instructions.upload(Upload(bytes: pngBytes, fileName: "chuck.png"), by: "quinn")
            rule(.invalidInput) {
                try instructions.saveDraft(part: "P-1", operation: 10, title: "Turning", body: "![x](attachment:\(String(repeating: "a", count: 64)))", by: "quinn")
            }
            let body = """
                # Clamp the bar
                1. Chuck pressure **40 bar**.
                ![Chuck](attachment:\(picture))
                <script>alert('x')</script>
                [bad](javascript:alert(1))
                """
            let (id, version) = try instructions.saveDraft(part: "P-1", operation: 10, title: "Turning", body: body, by: "quinn")
            #expect(version == 1)
            rule(.invalidTransition) { try instructions.saveDraft(part: "P-1", operation: 10, title: "Turning", body: "mine", by: "quentin") }
            rule(.signerNotAllowed) { try instructions.release(id, signature: q.sign("quinn")) }
            rule(.signerNotAllowed) { try instructions.release(id, signature: q.sign("ana")) }
            try q.plant.service.release(workOrder: "WO-1")
            let turning = try q.plant.operationID("WO-1", 10)
            #expect(try instructions.current(operationID: turning) == nil)
            try instructions.release(id, signature: q.sign("quentin", reason: "Reviewed against drawing rev C"))

            let shown = try #require(try instructions.current(operationID: turning))
            #expect(shown.version == 1)
            #expect(shown.html.contains("<strong>40 bar</strong>"))
            #expect(shown.html.contains("src=\"/attachments/\(picture)\""))
            #expect(!shown.html.contains("<script>"))
            #expect(!shown.html.contains("javascript:"))
            #expect(shown.signatures.map { "\($0.signer) \($0.meaning.rawValue) \($0.recordUnchanged)" } == ["quentin approved true"])

            let (second, two) = try instructions.saveDraft(part: "P-1", operation: 10, title: "Turning", body: "Chuck pressure 45 bar.", by: "quentin")
            #expect(two == 2)
            try instructions.release(second, signature: q.sign("quinn"))
            #expect(try instructions.current(operationID: turning)?.version == 2)
            let states = try q.db.query("SELECT version, state FROM work_instruction ORDER BY version").decode((Int, String).self)
            #expect(states.map(\.1) == ["superseded", "released"])
            // Superseding does not touch what version 1's signature covers.
            let first = try q.db.query("SELECT count(*) FROM e_signature WHERE entity = 'work_instruction' AND entity_id = \(String(id))").decode(Int.self)
            #expect(first == [1])
            rule(.invalidTransition) { try instructions.release(second, signature: q.sign("quinn")) }
        }
    }
}

@Suite struct ShiftHandoverTests {
    @Test func theSummaryIsGenerated_andOutgoingThenADifferentIncomingSupervisorSign() throws {
        try QualityFixture.with { q in
            let handovers = ShiftHandoverService(pool: q.plant.pool, clock: q.plant.time.read)
            rule(.notFound) { try handovers.prepare(site: "S1", notes: "", checklist: [], by: "sue") }
            // Early shift 06:00-14:00 Berlin: 05:00-13:00 UTC on the fixture's Monday.
            try q.db.execute("INSERT INTO shift_pattern (site_id, name, start_minute, end_minute) SELECT id, 'Early', 360, 840 FROM site")
            let turning = try q.runningTurning()
            try q.plant.service.report(operationID: turning, .scrap, quantity: 2, reason: "DIM", by: "ana")
            try q.quality.placeHold(operationID: turning, reason: "Chips in the bore", by: "sue")
            try q.db.execute("""
                INSERT INTO machine_state_interval (machine_id, started_at, ended_at, state, reason)
                SELECT id, '2026-11-23 06:00Z', '2026-11-23 06:30Z', 'unplanned_stop', 'Tool breakage' FROM machine WHERE code = 'M1'
                """)
            q.plant.time.advance(3 * 3_600)
            let id = try handovers.prepare(
                site: "S1", notes: "Insert change on **M1** at 10:40.", checklist: [.init(item: "5S walk", done: true)], by: "sue")
            let handover = try handovers.handover(id)
            #expect(handover.shift == "Early")
            #expect(handover.start == Date(timeIntervalSince1970: 1_795_420_800 - 3 * 3_600))
            #expect(handover.summary["scrap"] == [["reason": "DIM", "quantity": 2]])
            #expect(handover.summary["downtime"] == [["reason": "Tool breakage", "seconds": 1_800]])
            #expect(handover.summary["open_holds"]?.arrayValue?.count == 1)
            #expect(handover.notesHTML.contains("<strong>M1</strong>"))
            #expect(handover.checklist == [.init(item: "5S walk", done: true)])

            rule(.invalidInput) { try handovers.signOff(id, signature: q.sign("sue", .reviewed)) }
            rule(.signerNotAllowed) { try handovers.signOff(id, signature: q.sign("quinn", .performed)) }
            try handovers.signOff(id, signature: q.sign("sue", .performed))
            rule(.signerNotAllowed) { try handovers.signOff(id, signature: q.sign("sue", .reviewed)) }
            rule(.invalidTransition) { try handovers.prepare(site: "S1", notes: "changed", checklist: [], by: "sue") }
            try handovers.signOff(id, signature: q.sign("sam", .reviewed))
            rule(.invalidTransition) { try handovers.signOff(id, signature: q.sign("sam", .reviewed)) }
            #expect(try handovers.handover(id).signatures.map { "\($0.signer) \($0.meaning.rawValue) \($0.recordUnchanged)" } == [
                "sue performed true", "sam reviewed true",
            ])
        }
    }
}
