import Domain
import Foundation
import Postgres
import Services
import TestSupport
import Testing
import Workers

/// Fault injection only: an ERP that records what it was sent and fails on demand (the real
/// ERP is exercised by the Tryton tests).
final class RecordingERP: ERPConnector {
    let latency: Double
    init(latency: Double = 0) { self.latency = latency }
    private let state = Locked<(pushed: [String], failures: [String: (times: Int, kind: ERPError.Kind)], inFlight: Int, mostInFlight: Int)>(([], [:], 0, 0))

    /// `key` fails its next `times` pushes with an error of `kind`.
    func fail(_ key: String, times: Int, kind: ERPError.Kind = .refused) { state.withLock { $0.failures[key] = (times, kind) } }
    var pushed: [String] { state.withLock { $0.pushed } }
    /// The most pushes that were under way at one time.
    var mostInFlight: Int { state.withLock { $0.mostInFlight } }

    func push(_ message: OutboxMessage, idempotencyKey: String) throws(ERPError) -> ERPReceipt {
        state.withLock {
            $0.inFlight += 1
            $0.mostInFlight = max($0.mostInFlight, $0.inFlight)
        }
        defer { state.withLock { $0.inFlight -= 1 } }
        if latency > 0 { Thread.sleep(forTimeInterval: latency) }
        let failing = state.withLock { state -> ERPError.Kind? in
            if let failure = state.failures[idempotencyKey], failure.times > 0 {
                state.failures[idempotencyKey] = (failure.times - 1, failure.kind)
                return failure.kind
            }
            state.pushed.append(idempotencyKey)
            return nil
        }
        switch failing {
        case .unreachable?: throw ERPError(.unreachable, "connection refused")
        case let kind?: throw ERPError(kind, "no such production")
        case nil: break
        }
        return .sent("ok \(idempotencyKey)")
    }
}

struct OutboxDispatcherTests {
    /// Queues `count` scrap messages for each of `streams` work orders, through the real
    /// production service so the outbox rows are the ones the floor writes.
    static func queue(_ plant: ProductionFixture, orders: [String], scrapsPerOrder: Int) throws -> [String: [String]] {
        var keys: [String: [String]] = [:]
        for order in orders {
            if !["WO-1", "WO-2"].contains(order) {
                try plant.db.execute("""
                    INSERT INTO work_order (number, part_id, routing_id, site_id, quantity_planned)
                    SELECT \(order), p.id, r.id, s.id, 10 FROM part p, routing r, site s
                    """)
            }
            try plant.service.release(workOrder: order)
            let operation = try plant.operationID(order, 10)
            try plant.db.execute("UPDATE machine SET parallel_operations = true")
            try plant.service.perform(.start, operationID: operation)
            for _ in 0..<scrapsPerOrder {
                guard case .recorded(let id) = try plant.service.report(operationID: operation, .scrap, quantity: 1, reason: "DIM") else { continue }
                keys[order, default: []].append("scrap:\(id)")
            }
        }
        return keys
    }

    @Test func aFailingEntry_isRetriedWithBackoff_holdsBackItsOrder_only_andDiesAfterItsAttempts() throws {
        try ProductionFixture.with { plant in
            let keys = try Self.queue(plant, orders: ["WO-1", "WO-2"], scrapsPerOrder: 2)
            let erp = RecordingERP()
            let stuck = keys["WO-1"]![0]
            erp.fail(stuck, times: 3)
            let dispatcher = OutboxDispatcher(pool: plant.pool, connector: erp, node: "test", maxAttempts: 3, baseDelay: 30)
            #expect(dispatcher.delay(afterAttempt: 1) == 30 && dispatcher.delay(afterAttempt: 3) == 120 && dispatcher.delay(afterAttempt: 40) == 600)

            var report = try dispatcher.runOnce()
            // WO-2's entries went; WO-1's second waits behind its failed first.
            #expect(report == OutboxDispatcher.Report(sent: 2, retried: 1, dead: 0))
            #expect(erp.pushed == keys["WO-2"]!)
            // Not due again until its backoff has passed.
            #expect(try dispatcher.runOnce() == OutboxDispatcher.Report())
            let wait = try plant.db.query("""
                SELECT round(extract(epoch FROM next_attempt_at - now()))::int FROM erp_outbox WHERE idempotency_key = \(stuck)
                """).decode(Int.self)
            #expect(wait.first.map { (28...30).contains($0) } == true)

            for _ in 0..<2 {
                try plant.db.execute("UPDATE erp_outbox SET next_attempt_at = now() WHERE state = 'pending'")
                report = try dispatcher.runOnce()
            }
            #expect(report == OutboxDispatcher.Report(sent: 0, retried: 0, dead: 1))
            let dead = try Outbox.ledger(state: "dead", plant.pool)
            #expect(dead.map(\.key) == [stuck] && dead.first?.attempts == 3 && dead.first?.lastError == "refused: no such production")
            let attempts = try plant.db.query("SELECT outcome FROM erp_outbox_attempt a JOIN erp_outbox o ON o.id = a.outbox_id WHERE o.idempotency_key = \(stuck) ORDER BY attempt")
                .decode(String.self)
            #expect(attempts == ["retry", "retry", "dead"])
            // A dead entry still holds back its order.
            #expect(try dispatcher.runOnce() == OutboxDispatcher.Report())

            // Replayed by a person once the ERP is fixed: it goes, then the one behind it.
            #expect(try Outbox.replay(id: dead[0].id, plant.pool))
            #expect(try Outbox.replay(id: dead[0].id, plant.pool) == false)
            #expect(try dispatcher.runOnce() == OutboxDispatcher.Report(sent: 2, retried: 0, dead: 0))
            #expect(erp.pushed == keys["WO-2"]! + keys["WO-1"]!)
            let sent = try Outbox.ledger(state: "sent", plant.pool)
            #expect(sent.count == 4 && sent.allSatisfy { $0.erpAnswer == "ok \($0.key)" && $0.sentAt != nil })
        }
    }

    @Test func anUnreachableERP_isAnOutage_retriedSoon_andNeverKillsAnEntry() throws {
        try ProductionFixture.with { plant in
            let keys = try Self.queue(plant, orders: ["WO-1"], scrapsPerOrder: 1)
            let key = keys["WO-1"]![0]
            let erp = RecordingERP()
            erp.fail(key, times: 12, kind: .unreachable)
            let dispatcher = OutboxDispatcher(pool: plant.pool, connector: erp, node: "test", maxAttempts: 3, baseDelay: 2, outageMaxDelay: 30)
            #expect(dispatcher.delay(afterOutageAttempt: 1) == 2 && dispatcher.delay(afterOutageAttempt: 5) == 30 && dispatcher.delay(afterOutageAttempt: 12) == 30)
            // Twelve attempts while the ERP is away: four times maxAttempts, and still pending.
            for _ in 0..<12 {
                #expect(try dispatcher.runOnce() == OutboxDispatcher.Report(retried: 1))
                let wait = try plant.db.query("""
                    SELECT round(extract(epoch FROM next_attempt_at - now()))::int FROM erp_outbox WHERE idempotency_key = \(key)
                    """).decode(Int.self)
                #expect(wait.first.map { $0 <= 30 } == true, "an outage's backoff stops at 30 s")
                try plant.db.execute("UPDATE erp_outbox SET next_attempt_at = now()")
            }
            #expect(try plant.db.query("SELECT state, attempts FROM erp_outbox WHERE idempotency_key = \(key)").decode((String, Int).self).first! == ("pending", 12))
            // Back: it goes, once.
            #expect(try dispatcher.runOnce() == OutboxDispatcher.Report(sent: 1))
            #expect(erp.pushed == [key])

            // Outages before refusals do not shorten the refusals' count: two outages, then
            // refusals, dead only at the third refusal.
            let next = try Self.queue(plant, orders: ["WO-2"], scrapsPerOrder: 1)["WO-2"]![0]
            erp.fail(next, times: 2, kind: .unreachable)
            var outcomes: [OutboxDispatcher.Report] = []
            for round in 0..<5 {
                if round == 2 { erp.fail(next, times: 5, kind: .refused) }
                outcomes.append(try dispatcher.runOnce())
                try plant.db.execute("UPDATE erp_outbox SET next_attempt_at = now() WHERE state = 'pending'")
            }
            #expect(outcomes.map(\.dead) == [0, 0, 0, 0, 1])
        }
    }

    @Test func twoNodes_sendEveryEntryExactlyOnce_inTheOrderOfEachWorkOrder() throws {
        try ProductionFixture.with { plant in
            let orders = (1...8).map { "WO-\($0)" }
            let keys = try Self.queue(plant, orders: orders, scrapsPerOrder: 12)
            let erp = RecordingERP(latency: 0.002)
            let reports = Locked<[OutboxDispatcher.Report]>([])
            let finished = DispatchSemaphore(value: 0)
            for node in ["node-a", "node-b"] {
                let dispatcher = OutboxDispatcher(pool: plant.pool, connector: erp, node: node)
                Thread.detachNewThread {
                    let report = (try? dispatcher.runOnce(limit: 1000)) ?? OutboxDispatcher.Report()
                    reports.withLock { $0.append(report) }
                    finished.signal()
                }
            }
            finished.wait()
            finished.wait()
            #expect(reports.withLock { $0.map(\.sent).reduce(0, +) } == 96)
            let pushed = erp.pushed
            #expect(pushed.count == 96 && Set(pushed).count == 96)
            for order in orders {
                #expect(pushed.filter { keys[order]!.contains($0) } == keys[order]!)
            }
            let byNode = try plant.db.query("SELECT count(DISTINCT node) FROM erp_outbox_attempt").decode(Int64.self)
            #expect(byNode == [2])
        }
    }

    /// One process's jobs with four push threads: every entry once, each order's in its order,
    /// and the pushes really overlap.
    @Test func concurrentPushThreads_sendEveryEntryOnce_inTheOrderOfEachWorkOrder() throws {
        try ProductionFixture.with { plant in
            let orders = (1...8).map { "WO-\($0)" }
            let keys = try Self.queue(plant, orders: orders, scrapsPerOrder: 10)
            let erp = RecordingERP(latency: 0.005)
            let jobs = ERPSyncJobs(
                pull: nil, dispatcher: OutboxDispatcher(pool: plant.pool, connector: erp, node: "node-a"),
                pullInterval: 60, pushInterval: 2, pushConcurrency: 4)
            let turn = try jobs.runOnce()
            #expect(turn.push == OutboxDispatcher.Report(sent: 80))
            let pushed = erp.pushed
            #expect(pushed.count == 80 && Set(pushed).count == 80)
            for order in orders {
                #expect(pushed.filter { keys[order]!.contains($0) } == keys[order]!)
            }
            #expect(erp.mostInFlight > 1 && erp.mostInFlight <= 4, "\(erp.mostInFlight)")
            #expect(try jobs.runOnce().push == OutboxDispatcher.Report())
        }
    }
}
