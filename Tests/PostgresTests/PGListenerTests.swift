import Postgres
import TestSupport
import Testing

struct PGListenerTests {
    /// The next notification, or nil if none arrives within `seconds`.
    private func next(_ iterator: inout AsyncStream<PGListener.Event>.Iterator, within seconds: Double) async -> PGListener.Event? {
        let watchdog = Task { try await Task.sleep(for: .seconds(seconds)) }
        defer { watchdog.cancel() }
        return await iterator.next()
    }

    @Test func notify_reachesTheListener() async throws {
        try await TestDatabase.withFresh { url in
            let listener = PGListener(url: url, channels: ["machine_state", "other"])
            defer { listener.stop() }
            var events = listener.events.makeAsyncIterator()
            #expect(await events.next() == .reconnected)

            let sender = try PGConnection.connect(url: url)
            try sender.notify("machine_state", payload: #"{"machine":"M-01","state":"running"}"#)
            try sender.transaction { tx in try tx.notify("other", payload: "committed") }

            guard case .notification(let first)? = await events.next() else { Issue.record("no notification"); return }
            #expect(first.channel == "machine_state")
            #expect(first.payload == #"{"machine":"M-01","state":"running"}"#)
            #expect(first.senderPID == sender.backendPID)
            guard case .notification(let second)? = await events.next() else { Issue.record("no notification"); return }
            #expect(second.payload == "committed")
        }
    }

    @Test func notify_inARolledBackTransaction_isNeverDelivered() async throws {
        try await TestDatabase.withFresh { url in
            let listener = PGListener(url: url, channels: ["c"])
            defer { listener.stop() }
            var events = listener.events.makeAsyncIterator()
            #expect(await events.next() == .reconnected)
            let sender = try PGConnection.connect(url: url)
            struct Abort: Error {}
            _ = try? sender.transaction { tx in
                try tx.notify("c", payload: "rolled back")
                throw Abort()
            }
            try sender.notify("c", payload: "after")
            guard case .notification(let only)? = await events.next() else { Issue.record("no notification"); return }
            #expect(only.payload == "after")
        }
    }

    @Test func listener_reconnectsAfterItsBackendIsKilled() async throws {
        try await TestDatabase.withFresh { url in
            let listener = PGListener(url: url, channels: ["c"])
            defer { listener.stop() }
            var events = listener.events.makeAsyncIterator()
            #expect(await events.next() == .reconnected)
            let admin = try PGConnection.connect(url: url)
            try admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mes-listener' AND datname = current_database()")
            #expect(await events.next() == .reconnected)
            try admin.notify("c", payload: "after reconnect")
            guard case .notification(let received)? = await events.next() else { Issue.record("no notification"); return }
            #expect(received.payload == "after reconnect")
        }
    }

    @Test func stop_finishesTheStream() async throws {
        try await TestDatabase.withFresh { url in
            let listener = PGListener(url: url, channels: ["c"])
            var events = listener.events.makeAsyncIterator()
            #expect(await events.next() == .reconnected)
            listener.stop()
            #expect(await events.next() == nil)
            listener.stop()
        }
    }
}
