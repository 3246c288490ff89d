import Domain
import Testing

struct CounterTrackerTests {
    /// Feeds (timestamp, value) readings; returns each step.
    private func steps(_ readings: [(Int64, Int64)], maximum: Int64? = Int64(UInt32.max)) -> [CounterTracker.Step] {
        var tracker = CounterTracker(maximum: maximum)
        return readings.map { tracker.record(value: $1, timestampMilliseconds: $0) }
    }

    @Test func growingCounter_yieldsDifferences_afterABaseline() {
        let result = steps([(1, 1000), (2, 1004), (3, 1004), (4, 1010)])
        #expect(result.map(\.parts) == [0, 4, 0, 6])
        #expect(result.allSatisfy { !$0.reset && !$0.rollover && !$0.ignored })
    }

    @Test func reset_countsPartsSinceTheReset_andIsReported() {
        let result = steps([(1, 5000), (2, 5010), (3, 7), (4, 12)])
        #expect(result.map(\.parts) == [0, 10, 7, 5])
        #expect(result.map(\.reset) == [false, false, true, false])
    }

    @Test func rolloverAtThe32BitLimit_countsThroughTheWrap() {
        let result = steps([(1, 4_294_967_290), (2, 3)])
        #expect(result[1].parts == 9)  // ...290 → ...295 is 5, wrap to 0 is 1, then 3
        #expect(result[1].rollover)
        #expect(!result[1].reset)
    }

    @Test func aSixteenBitCounter_wrapsAtItsOwnMaximum() {
        let result = steps([(1, 65_530), (2, 4)], maximum: 65_535)
        #expect(result[1].parts == 10)
        #expect(result[1].rollover)
    }

    @Test func redeliveredOrOutOfOrderReadings_changeNothing() {
        var tracker = CounterTracker()
        _ = tracker.record(value: 100, timestampMilliseconds: 10)
        #expect(tracker.record(value: 110, timestampMilliseconds: 20).parts == 10)
        let redelivered = tracker.record(value: 110, timestampMilliseconds: 20)
        #expect(redelivered.ignored)
        #expect(redelivered.parts == 0)
        #expect(tracker.record(value: 105, timestampMilliseconds: 15).ignored, "an older reading is not a reset")
        #expect(tracker.record(value: 120, timestampMilliseconds: 30).parts == 10)
    }

    @Test func rebaseline_makesTheNextReadingABaseline() {
        var tracker = CounterTracker()
        _ = tracker.record(value: 100, timestampMilliseconds: 10)
        tracker.rebaseline()
        let step = tracker.record(value: 3, timestampMilliseconds: 20)
        #expect(step.parts == 0)
        #expect(!step.reset)
    }
}
