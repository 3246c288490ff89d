import HTTP
import Testing

struct SSEEventTests {
    @Test func event_isFramedWithIdEventAndDataLines() {
        let event = SSEEvent(id: "42", event: "machine", data: #"{"state":"down"}"#)
        #expect(String(decoding: event.encoded(), as: UTF8.self) == "id: 42\nevent: machine\ndata: {\"state\":\"down\"}\n\n")
    }

    @Test func event_splitsMultiLineDataOnEveryLineBreak() {
        let event = SSEEvent(data: "a\nb\r\nc\rd")
        #expect(String(decoding: event.encoded(), as: UTF8.self) == "data: a\ndata: b\ndata: c\ndata: d\n\n")
    }

    @Test func event_cannotBreakItsFramingThroughIdOrName() {
        let event = SSEEvent(id: "1\n\ndata: forged", event: "x\r\nevent: y", data: "", retry: 1500)
        #expect(String(decoding: event.encoded(), as: UTF8.self) == "id: 1data: forged\nevent: xevent: y\nretry: 1500\ndata: \n\n")
    }

    @Test func hub_replaysWhatFollowsAnId_andSaysWhenItCannot() throws {
        let hub = SSEHub(replayCapacity: 3)
        for n in 1...5 { hub.publish(data: "event \(n)") }
        #expect(hub.lastEventID == 5)
        #expect(try #require(hub.events(after: 3)).map(\.id) == [4, 5])
        #expect(try #require(hub.events(after: 2)).map(\.id) == [3, 4, 5])
        #expect(hub.events(after: 1) == nil, "event 2 is no longer kept")
        #expect(try #require(hub.events(after: 5)).isEmpty)
    }
}
