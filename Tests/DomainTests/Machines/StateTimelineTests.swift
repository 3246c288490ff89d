import Domain
import Testing

struct StateTimelineTests {
    static func change(_ time: Int64, _ state: MachineState, _ reason: String? = nil) -> StateChange {
        StateChange(timeMilliseconds: time, state: state, reason: reason)
    }

    @Test func firstChanges_openAndCloseIntervals() {
        let update = StateTimeline.apply([Self.change(100, .running), Self.change(400, .unplannedStop), Self.change(700, .running)], after: nil)
        #expect(update.previous == nil)
        #expect(update.added == [
            TimelineInterval(start: 100, end: 400, state: .running, reason: nil),
            TimelineInterval(start: 400, end: 700, state: .unplannedStop, reason: nil),
            TimelineInterval(start: 700, end: nil, state: .running, reason: nil),
        ])
    }

    @Test func aLaterBatch_closesTheOpenInterval() {
        let open = TimelineInterval(start: 100, end: nil, state: .running, reason: nil)
        let update = StateTimeline.apply([Self.change(500, .setup, "changeover")], after: open)
        #expect(update.previous == TimelineInterval(start: 100, end: 500, state: .running, reason: nil))
        #expect(update.added == [TimelineInterval(start: 500, end: nil, state: .setup, reason: "changeover")])
    }

    @Test func repeatedReports_extendTheInterval() {
        let open = TimelineInterval(start: 100, end: nil, state: .running, reason: nil)
        let update = StateTimeline.apply([Self.change(200, .running), Self.change(300, .running)], after: open)
        #expect(update.previous == nil && update.added.isEmpty)
    }

    @Test func aReasonArrivingLater_classifiesTheSameStop() {
        let open = TimelineInterval(start: 100, end: nil, state: .unplannedStop, reason: nil)
        let update = StateTimeline.apply([Self.change(130, .unplannedStop, "jam")], after: open)
        #expect(update.previous == TimelineInterval(start: 100, end: nil, state: .unplannedStop, reason: "jam"))
        #expect(update.added.isEmpty)
    }

    @Test func aDifferentReason_startsANewStop() {
        let open = TimelineInterval(start: 100, end: nil, state: .unplannedStop, reason: "jam")
        let update = StateTimeline.apply([Self.change(130, .unplannedStop, "tool broken")], after: open)
        #expect(update.previous?.end == 130)
        #expect(update.added == [TimelineInterval(start: 130, end: nil, state: .unplannedStop, reason: "tool broken")])
    }

    @Test func changesAtTheSameInstant_theLastWins_inAnyArrivalOrderOfOtherTimes() {
        let update = StateTimeline.apply([Self.change(300, .idle), Self.change(100, .running), Self.change(300, .offline)], after: nil)
        #expect(update.added == [
            TimelineInterval(start: 100, end: 300, state: .running, reason: nil),
            TimelineInterval(start: 300, end: nil, state: .offline, reason: nil),
        ])
        let open = TimelineInterval(start: 100, end: nil, state: .running, reason: nil)
        let same = StateTimeline.apply([Self.change(100, .setup)], after: open)
        #expect(same.previous == TimelineInterval(start: 100, end: nil, state: .setup, reason: nil))
    }
}
