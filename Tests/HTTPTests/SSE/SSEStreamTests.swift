import Foundation
import HTTP
import Testing

@Suite(.serialized)
struct SSEStreamTests {
    static func server(_ hub: SSEHub, configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws -> TestServer {
        var router = Router()
        try router.get("/events", execution: .loop) { request, _ in
            let topics = try request.query()["line"].map { Set([$0]) }
            return .eventStream(hub, topics: topics)
        }
        return try TestServer(router: router, configure: configure)
    }

    /// Reads until `text` has arrived on the stream.
    private func waitFor(_ text: String, on client: RawClient, timeout: Double = 3) -> String {
        String(decoding: client.read(timeout: timeout) { String(decoding: $0, as: UTF8.self).contains(text) }.bytes, as: UTF8.self)
    }

    @Test func stream_deliversPublishedEventsToEverySubscriber() throws {
        let hub = SSEHub()
        let server = try Self.server(hub)
        defer { server.stop() }
        let clients = try (0..<5).map { _ in try RawClient(port: server.port) }
        for client in clients { client.send("GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n") }
        for client in clients {
            let head = waitFor("retry: 2000", on: client)
            #expect(head.contains("Content-Type: text/event-stream"))
            #expect(!head.contains("Content-Length"))
        }
        hub.publish(event: "machine", data: #"{"machine":"M-01","state":"down"}"#)
        for client in clients {
            #expect(waitFor("state", on: client).contains("id: 1\nevent: machine\ndata: {\"machine\":\"M-01\",\"state\":\"down\"}\n\n"))
        }
    }

    @Test func stream_filtersByTopic() throws {
        let hub = SSEHub()
        let server = try Self.server(hub)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /events?line=L2 HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = waitFor("retry", on: client)
        hub.publish(data: "for line 1", topic: "L1")
        hub.publish(data: "for line 2", topic: "L2")
        let text = waitFor("for line 2", on: client)
        #expect(text.contains("data: for line 2"))
        #expect(!text.contains("for line 1"))
    }

    @Test func reconnect_withLastEventID_replaysWhatWasMissed() throws {
        let hub = SSEHub(replayCapacity: 10)
        let server = try Self.server(hub)
        defer { server.stop() }
        for n in 1...4 { hub.publish(data: "event \(n)") }
        let client = try RawClient(port: server.port)
        client.send("GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 2\r\n\r\n")
        let text = waitFor("event 4", on: client)
        #expect(text.contains("id: 3\ndata: event 3"))
        #expect(text.contains("id: 4\ndata: event 4"))
        #expect(!text.contains("event 2"))

        let late = try RawClient(port: server.port)
        for n in 5...20 { hub.publish(data: "event \(n)") }
        late.send("GET /events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: 1\r\n\r\n")
        #expect(waitFor("event: reset", on: late).contains("event: reset"))
    }

    @Test func firstConnection_withThePagesResumeToken_startsWhereThePageWasRendered() throws {
        let hub = SSEHub(replayCapacity: 10)
        let server = try Self.server(hub)
        defer { server.stop() }
        hub.publish(data: "before the page")
        let token = hub.resumeToken  // what a page rendered now names
        #expect(hub.resumePoint(token) == 1)
        hub.publish(data: "while the page loaded")
        let client = try RawClient(port: server.port)
        client.send("GET /events?after=\(token) HTTP/1.1\r\nHost: x\r\n\r\n")
        let text = waitFor("while the page loaded", on: client)
        #expect(text.contains("id: 2\ndata: while the page loaded"))
        #expect(!text.contains("before the page"))

        // Another process's token (a restart, another node) cannot be placed: no replay.
        let stranger = SSEHub()
        #expect(hub.resumePoint(stranger.resumeToken) == nil)
        #expect(hub.resumePoint("garbage") == nil)
        let other = try RawClient(port: server.port)
        other.send("GET /events?after=\(stranger.resumeToken.dropLast())1 HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = waitFor("retry", on: other)
        hub.publish(data: "after both connected")
        let seen = waitFor("after both connected", on: other)
        #expect(seen.contains("after both connected"))
        #expect(!seen.contains("while the page loaded"))
    }

    @Test func slowClient_isDroppedInsteadOfBufferedForever() throws {
        let hub = SSEHub()
        let server = try Self.server(hub) { $0.sseMaxBufferedBytes = 64 * 1024 }
        defer { server.stop() }
        let slow = try RawClient(port: server.port)
        slow.shrinkReceiveBuffer()
        slow.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.2)
        let payload = String(repeating: "x", count: 8 * 1024)
        // Publish far more than the socket buffers plus our limit, without the client reading.
        let deadline = Date().addingTimeInterval(5)
        while server.server.connectionCount > 0 && Date() < deadline {
            for _ in 0..<50 { hub.publish(data: payload) }
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(server.server.connectionCount == 0, "the slow client should have been dropped")
    }

    @Test func heartbeat_keepsAnIdleStreamAlive() throws {
        let hub = SSEHub()
        let server = try Self.server(hub) { $0.sseHeartbeat = 0.3 }
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(waitFor(": ping", on: client, timeout: 3).contains(": ping\n\n"))
    }

    @Test func shutdown_sendsAFinalEventAndCloses() throws {
        let hub = SSEHub()
        let server = try Self.server(hub)
        let client = try RawClient(port: server.port)
        client.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        _ = waitFor("retry", on: client)
        server.stop()
        let (bytes, closed) = client.read(timeout: 3) { _ in false }
        #expect(String(decoding: bytes, as: UTF8.self).contains("event: shutdown"))
        #expect(closed)
    }
}
