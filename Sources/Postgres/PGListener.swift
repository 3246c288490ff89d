import Glibc
import Logging
import Workers

/// Listens on PostgreSQL channels on a dedicated connection and thread, and delivers what
/// arrives as an `AsyncStream`.
///
/// If the connection breaks, the listener reconnects with exponential backoff (0.1 s doubling to
/// 5 s), listens again, and emits `.reconnected`: notifications sent while it was away are lost
/// (PostgreSQL does not queue them), so consumers should reload their state on that event.
public final class PGListener: @unchecked Sendable {
    /// What a listener delivers.
    public enum Event: Sendable, Equatable {
        case notification(PGNotification)
        /// The listener is (again) subscribed; anything sent before this may have been missed.
        case reconnected
    }

    /// The events, in arrival order. Finishes after `stop()`.
    public let events: AsyncStream<Event>

    private let url: String
    private let channels: [String]
    private let logger: Logger
    private let continuation: AsyncStream<Event>.Continuation
    private let thread: WorkerPool
    private let wakePipe: (read: Int32, write: Int32)
    private let stopped = ConditionLock()
    private var isStopped = false  // guarded by `stopped`

    /// Starts listening at once; the first event is `.reconnected` once the subscription holds.
    public init(url: String, channels: [String], logger: Logger = Logger(label: "mes.postgres.listener")) {
        self.url = url
        self.channels = channels
        self.logger = logger
        (events, continuation) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .bufferingNewest(10_000))
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0, "pipe failed: \(String(cString: strerror(errno)))")
        wakePipe = (fds[0], fds[1])
        thread = WorkerPool(name: "pg-listen", threadCount: 1)
        thread.submit { [self] in run() }
    }

    /// Stops listening, closes the connection and finishes `events`. Idempotent.
    public func stop() {
        let first = stopped.withLock {
            defer { isStopped = true }
            return !isStopped
        }
        guard first else { return }
        var byte: UInt8 = 1
        _ = write(wakePipe.write, &byte, 1)
        thread.shutdown()
        close(wakePipe.read)
        close(wakePipe.write)
        continuation.finish()
    }

    private var shouldStop: Bool { stopped.withLock { isStopped } }

    private func run() {
        var backoff = 0.1
        while !shouldStop {
            let connection: PGConnection
            do {
                connection = try PGConnection.connect(url: url, applicationName: "mes-listener")
                for channel in channels { try connection.listen(channel) }
            } catch {
                logger.warning("cannot listen on PostgreSQL, retrying in \(backoff) s: \(error)")
                sleepUnlessWoken(seconds: backoff)
                backoff = min(backoff * 2, 5)
                continue
            }
            backoff = 0.1
            continuation.yield(.reconnected)
            do {
                while !shouldStop {
                    for notification in try connection.waitForNotifications(timeout: 30, wakeDescriptor: wakePipe.read) {
                        continuation.yield(.notification(notification))
                    }
                }
            } catch {
                logger.warning("PostgreSQL listener connection lost: \(error)")
            }
        }
    }

    private func sleepUnlessWoken(seconds: Double) {
        var descriptor = pollfd(fd: wakePipe.read, events: Int16(POLLIN), revents: 0)
        _ = poll(&descriptor, 1, Int32(seconds * 1000))
    }
}
