import Domain
import Testing

struct WorkInProcessTests {
    @Test func summarize_countsAndAgesPerOperation() throws {
        let now = 10_000.0
        let lots = [
            WIPLot(workOrder: "WO-1", operation: "0030", quantity: 30, arrivedAt: now - 3600),
            WIPLot(workOrder: "WO-2", operation: "0030", quantity: 10, arrivedAt: now - 600),
            WIPLot(workOrder: "WO-3", operation: "0010", quantity: 5, arrivedAt: now + 2),  // clock slightly ahead
            WIPLot(workOrder: "WO-4", operation: "0020", quantity: 0, arrivedAt: now - 99_999),  // nothing left
        ]
        let summary = try WorkInProcess.summarize(lots, at: now)
        #expect(summary.map(\.operation) == ["0010", "0030"])
        #expect(summary[0] == WIPSummary(operation: "0010", quantity: 5, lots: 1, oldestAgeSeconds: 0, meanAgeSeconds: 0))
        // 30 parts an hour old and 10 parts ten minutes old: the average part waited 2,850 s.
        #expect(summary[1] == WIPSummary(operation: "0030", quantity: 40, lots: 2, oldestAgeSeconds: 3600, meanAgeSeconds: 2850))
    }

    @Test func negativeQuantity_isRefused() {
        #expect(throws: KPIError("work order WO-1, operation 0030: the quantity must be zero or more")) {
            try WorkInProcess.summarize([WIPLot(workOrder: "WO-1", operation: "0030", quantity: -1, arrivedAt: 0)], at: 0)
        }
    }
}
