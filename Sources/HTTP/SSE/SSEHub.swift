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
    /// Tells this hub's event ids from another process's: ids restart at 1 with the process,
    /// and each node of a cluster counts its own.
    public let instance: String
    private let state = Locked(State())

    public init(replayCapacity: Int = 1024) {
        self.replayCapacity = max(1, replayCapacity)
        instance = String(UInt64.random(in: 1...UInt64.max), radix: 36)
    }

    /// Where the stream stands now, as `INSTANCE-ID`. A page rendered from the state at this
    /// point names it, and its event stream asks for `/events?after=TOKEN`: the stream then
    /// starts with what was published since (an EventSource sends no `Last-Event-ID` on its
    /// first connection).
    public var resumeToken: String { "\(instance)-\(lastEventID)" }

    /// The event id a token names; nil for another hub's token (another process, another node),
    /// whose stream then starts from now.
    public func resumePoint(_ token: String) -> UInt64? {
        guard let dash = token.lastIndex(of: "-"), token[..<dash] == instance else { return nil }
        return UInt64(token[token.index(after: dash)...])
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
