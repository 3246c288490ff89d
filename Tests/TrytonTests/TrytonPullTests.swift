import Foundation
import JSON
import Postgres
import Services
import TestSupport
import Testing
@testable import Tryton

/// Against the real Tryton 8.2 of scripts/tryton-up.sh, seeded by scripts/tryton_seed.py:
/// work centers PLANT-1 > LATHE-02, CNC-01, QC-01; parts SH-100, RM-C45, RM-6204; BOM 1 (1.25 kg
/// RM-C45 + 2 u RM-6204 per SH-100); routing 1 (OP10 Turning, OP20 Milling keyway, OP30 Final
/// inspection); employees Operator One and Two; productions 1 (waiting, 10 u, works 1-3),
/// 2 (assigned, 5 u, works 4-6) and 3 (draft). One Tryton serves every test, so they run one
/// at a time and each starts from the seed.
@Suite(.serialized) struct TrytonTests {
    @Test func aPull_bringsTrytonsMasterDataAndOpenOrders_intoThePlant_andASecondPullChangesNothing() throws {
        try TestTryton.reset()
        try ERPPlant.with { plant in
            let pull = ERPPull(pool: plant.pool, source: TrytonConnector(settings: try TestTryton.settings()), site: "S1", node: "test")
            let report = try pull.run()
            #expect(report.problems == [])
            #expect(report.counts["work_orders"] == ERPPull.Counts(created: 2))

            // Leaf work centers are machines; the MES's own LATHE-02 is linked, not doubled.
            #expect(try plant.strings("SELECT code || ' ' || erp_ref || ' ' || (line_id IS NOT NULL) FROM machine ORDER BY code")
                == ["CNC-01 3 false", "LATHE-02 2 true", "QC-01 4 false"])
            #expect(try plant.strings("SELECT code || ' ' || unit || ' ' || erp_ref FROM part ORDER BY code")
                == ["RM-6204 u 3", "RM-C45 kg 2", "SH-100 u 1"])
            #expect(try plant.strings("""
                SELECT u.username || ' ' || u.employee_ref || ' ' || r.role_code FROM app_user u JOIN user_role r ON r.user_id = u.id ORDER BY 1
                """) == ["operator.one 1 operator", "operator.two 2 operator"])
            #expect(try plant.strings("""
                SELECT b.name || ': ' || p.code || ' ' || c.quantity::float8 || ' ' || c.unit FROM bill_of_materials b
                JOIN bom_component c ON c.bom_id = b.id JOIN part p ON p.id = c.part_id ORDER BY c.position
                """) == ["SH-100 BOM: RM-C45 1.25 kg", "SH-100 BOM: RM-6204 2 u"])
            #expect(try plant.strings("""
                SELECT p.code || ' ' || ro.sequence || ' ' || ro.name || ' ' || m.code FROM routing r JOIN part p ON p.id = r.part_id
                JOIN routing_operation ro ON ro.routing_id = r.id JOIN machine m ON m.id = ro.machine_id ORDER BY ro.sequence
                """) == ["SH-100 10 OP10 Turning LATHE-02", "SH-100 20 OP20 Milling keyway CNC-01", "SH-100 30 OP30 Final inspection QC-01"])

            // Both open orders are released with Tryton's works as operations; the draft is not pulled.
            #expect(try plant.strings("""
                SELECT wo.number || ' ' || wo.reference || ' ' || wo.state || ' ' || wo.quantity_planned::float8 || ' ' || wo.erp_ref
                       || ' ' || to_char(wo.planned_start AT TIME ZONE 'Europe/Berlin', 'YYYY-MM-DD HH24:MI') || ' ' || (wo.bom_id IS NOT NULL)
                FROM work_order wo ORDER BY number
                """) == ["1 MO-WAITING released 10 1 2026-11-25 00:00 true", "2 MO-ASSIGNED released 5 2 2026-11-24 00:00 true"])
            #expect(try plant.strings("""
                SELECT wo.number || ' ' || o.sequence || ' ' || o.erp_ref || ' ' || m.code || ' ' || o.state FROM work_order_operation o
                JOIN work_order wo ON wo.id = o.work_order_id JOIN machine m ON m.id = o.machine_id WHERE wo.number = '2' ORDER BY o.sequence
                """) == ["2 10 4 LATHE-02 queued", "2 20 5 CNC-01 queued", "2 30 6 QC-01 queued"])

            // Everything comes again through the overlap window, and nothing changes.
            let again = try pull.run()
            #expect(again.problems == [])
            for (entity, counts) in again.counts {
                #expect(counts == ERPPull.Counts(unchanged: counts.unchanged), "\(entity)")
            }
            #expect(again.counts["work_orders"]?.unchanged == 2)
            #expect(try plant.strings("SELECT count(*)::text FROM erp_pull_run WHERE outcome = 'done'") == ["2"])
        }
    }

    @Test func aLaterPull_takesANewOrderAndACancellation_andOnlyOneNodePullsAtATime() throws {
        try TestTryton.reset()
        try ERPPlant.with { plant in
            let connector = TrytonConnector(settings: try TestTryton.settings())
            let pull = ERPPull(pool: plant.pool, source: connector, site: "S1", node: "test")
            try pull.run()

            // In Tryton: order 1 is cancelled, and a new order for 3 parts is made and set waiting.
            let client = connector.client
            _ = try client.call("production", "cancel", [[1]])
            let date: JSONValue = ["__class__": "date", "year": 2026, "month": 12, "day": 1]
            let created = try client.call("production", "create", [[[
                "product": 1, "bom": 1, "routing": 1, "work_center": 1, "quantity": 3, "unit": 1, "reference": "RPC-MO-4",
                "planned_date": date, "planned_start_date": date,
            ]]])
            let id = try #require(created.arrayValue?.first?.intValue)
            _ = try client.call("production", "wait", [[.number(Double(id))]])

            let report = try pull.run()
            #expect(report.problems == [])
            #expect(report.counts["work_orders"]?.created == 1)
            #expect(report.counts["work_orders"]?.updated == 1)
            #expect(try plant.strings("SELECT number || ' ' || state FROM work_order WHERE erp_ref = '1'") == ["1 cancelled"])
            #expect(try plant.strings("""
                SELECT wo.reference || ' ' || wo.state || ' ' || count(o.id) FROM work_order wo JOIN work_order_operation o ON o.work_order_id = wo.id
                WHERE wo.erp_ref = \(String(id)) GROUP BY wo.id
                """) == ["RPC-MO-4 released 3"])

            // While another node holds the pull's lock, a pull does nothing.
            let other = try PGConnection.connect(url: plant.url)
            #expect(try other.query("SELECT pg_try_advisory_lock(\(ERPPull.lockKey))").decode(Bool.self) == [true])
            #expect(try pull.run().ran == false)
            _ = try other.execute("SELECT pg_advisory_unlock(\(ERPPull.lockKey))")
            #expect(try pull.run().ran == true)
        }
    }
}
