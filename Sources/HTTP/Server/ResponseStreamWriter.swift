import Workers

/// Writes a streamed response body from a worker thread (an export, a long report), sent to the
/// client with chunked transfer coding as it is produced.
///
/// `write` blocks the producing thread while the client is more than `window` bytes behind, so
/// a slow client slows the producer instead of filling memory; it throws once the client has
/// gone, so the producer can stop early.
public final class ResponseStreamWriter: @unchecked Sendable {
    // @unchecked: the only mutable state, `state`, is read and written under `lock`.
    /// The client disconnected or the server is stopping.
    public struct Cancelled: Error, Sendable {}

    private struct State {
        var queued = 0          // posted to the loop, not yet taken into the socket buffer
        var socketPending = 0   // bytes the connection still has to send
        var cancelled = false
    }

    let window: Int
    private let lock = ConditionLock()
    private var state = State()  // guarded by `lock`
    private let send: @Sendable ([UInt8]) -> Void

    init(window: Int, send: @escaping @Sendable ([UInt8]) -> Void) {
        self.window = window
        self.send = send
    }

    /// Sends `bytes` as one chunk (an empty write sends nothing).
    public func write(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        let proceed = lock.withLock {
            lock.withLockHeldWaiting(
                until: { state.cancelled || state.queued + state.socketPending < window },
                deadline: .now().adding(seconds: 60)
            ) { ready in
                guard ready, !state.cancelled else { return false }
                state.queued += bytes.count
                return true
            }
        }
        guard proceed else { throw Cancelled() }
        send(bytes)
    }

    /// Sends UTF-8 text.
    public func write(_ text: String) throws { try write(Array(text.utf8)) }

    // Called by the event loop.

    func taken(_ count: Int, socketPending: Int) {
        lock.withLock {
            state.queued -= count
            state.socketPending = socketPending
        }
        lock.broadcast()
    }

    func drained(socketPending: Int) {
        lock.withLock { state.socketPending = socketPending }
        lock.broadcast()
    }

    func cancel() {
        lock.withLock { state.cancelled = true }
        lock.broadcast()
    }
}
