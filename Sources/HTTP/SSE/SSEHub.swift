import Workers

/// Broadcasts server-sent events to every subscribed connection, on whichever event loop it
/// lives, and keeps the last events for clients that reconnect with `Last-Event-ID`.
///
/// `publish` may be called from any thread. Event ids are consecutive integers; the replay
/// buffer is bounded, and a client whose last id has fallen out of it gets a `reset` event so it
/// reloads its state instead of silently missing updates.
public final class SSEHub: Sendable {
    /// A published event, with its wire bytes encoded once for every subscriber.
    public struct Published: Sendable {
        public var id: UInt64
        public var topic: String?
        public var bytes: [UInt8]
    }

    private struct State {
        var nextID: UInt64 = 1
        var replay: [Published] = []
        var replayStart = 0
        var sinks: [Int: @Sendable (Published) -> Void] = [:]
    }

    public let replayCapacity: Int
    private let state = Locked(State())

    public init(replayCapacity: Int = 1024) {
        self.replayCapacity = max(1, replayCapacity)
    }

    /// Publishes an event to subscribers of `topic` (and to those subscribed to every topic).
    /// - Returns: the event's id.
    @discardableResult
    public func publish(event: String? = nil, data: String, topic: String? = nil) -> UInt64 {
        let (published, sinks) = state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            let published = Published(id: id, topic: topic, bytes: SSEEvent(id: String(id), event: event, data: data).encoded())
            if state.replay.count < replayCapacity {
                state.replay.append(published)
            } else {
                state.replay[state.replayStart] = published
                state.replayStart = (state.replayStart + 1) % replayCapacity
            }
            return (published, Array(state.sinks.values))
        }
        for sink in sinks { sink(published) }
        return published.id
    }

    /// The id of the newest event, 0 before the first.
    public var lastEventID: UInt64 { state.withLock { $0.nextID - 1 } }

    /// Events after `id`, oldest first; nil when some of them are no longer kept.
    public func events(after id: UInt64) -> [Published]? {
        state.withLock { state in
            let ordered = Array(state.replay[state.replayStart...] + state.replay[..<state.replayStart])
            guard id + 1 < state.nextID else { return [] }
            guard let oldest = ordered.first, oldest.id <= id + 1 else { return nil }
            return ordered.filter { $0.id > id }
        }
    }

    /// Registers an event loop's delivery function (idempotent per key).
    func addSink(key: Int, _ sink: @escaping @Sendable (Published) -> Void) {
        state.withLock { state in
            if state.sinks[key] == nil { state.sinks[key] = sink }
        }
    }

    func removeSink(key: Int) {
        _ = state.withLock { $0.sinks.removeValue(forKey: key) }
    }
}
