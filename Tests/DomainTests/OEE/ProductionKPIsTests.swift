import Domain
import Testing

struct ProductionKPIsTests {
    @Test func scrapRate_isScrapOverEverythingProduced() throws {
        #expect(try ProductionKPIs.scrapRate(good: 18_848, scrap: 423) == 423.0 / 19_271)
        #expect(try ProductionKPIs.scrapRate(good: 0, scrap: 0) == nil)
        #expect(throws: KPIError.self) { try ProductionKPIs.scrapRate(good: -1, scrap: 0) }
    }

    @Test func firstPassYield_countsReworkAsNotFirstPass() throws {
        #expect(try ProductionKPIs.firstPassYield(started: 200, scrap: 6, rework: 14) == 0.9)
        #expect(throws: KPIError("scrap and rework exceed the parts started")) {
            try ProductionKPIs.firstPassYield(started: 10, scrap: 6, rework: 5)
        }
    }

    @Test func scheduleAttainment_reportsOverProductionUncapped() throws {
        #expect(try ProductionKPIs.scheduleAttainment(produced: 450, planned: 500) == 0.9)
        #expect(try ProductionKPIs.scheduleAttainment(produced: 550, planned: 500) == 1.1)
        #expect(try ProductionKPIs.scheduleAttainment(produced: 5, planned: 0) == nil)
    }

    @Test func reliability_countsOnlyRealFailures() {
        let intervals = [
            StateInterval(start: 0, end: 3600, state: .running),
            StateInterval(start: 3600, end: 4200, state: .unplannedStop),   // 10 min: a failure
            StateInterval(start: 4200, end: 7800, state: .running),
            StateInterval(start: 7800, end: 7860, state: .unplannedStop),   // 1 min: a small stop
            StateInterval(start: 7860, end: 9000, state: .running),
            StateInterval(start: 9000, end: 10_200, state: .unplannedStop), // 20 min: a failure
            StateInterval(start: 10_200, end: 10_800, state: .plannedStop),
        ]
        let result = ProductionKPIs.reliability(intervals: intervals, windowStart: 0, windowEnd: 10_800)
        #expect(result.failures == 2)
        #expect(result.mtbfSeconds == Double(3600 + 3600 + 1140) / 2)
        #expect(result.mttrSeconds == Double(600 + 1200) / 2)
        #expect(ProductionKPIs.reliability(intervals: [], windowStart: 0, windowEnd: 10).failures == 0)
    }
}
