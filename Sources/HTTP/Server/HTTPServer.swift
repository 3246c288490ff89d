import Glibc
import Logging
import Synchronization
import Workers

/// An HTTP/1.1 server on non-blocking POSIX sockets and epoll: one event loop per core, each
/// with its own listening socket, and a bounded worker pool for handlers that block.
///
/// ```swift
/// var router = Router()
/// try router.get("/health", execution: .loop) { _, _ in .text("ok") }
/// let server = HTTPServer(configuration: HTTPServerConfiguration(port: 8080), router: router)
/// try server.start()
/// server.waitUntilStopped()   // until shutdown(), e.g. from a SIGTERM handler
/// ```
public final class HTTPServer: Sendable {
    private let core: ServerCore
    private struct State {
        var loops: [EventLoop] = []
        var threads: WorkerPool?
        var port = 0
        var stopped = false
    }
    private let state = Locked(State())
    private let stoppedSignal = ConditionLock()

    public init(configuration: HTTPServerConfiguration, router: Router, logger: Logger = Logger(label: "mes.http")) {
        core = ServerCore(configuration: configuration, router: router, logger: logger)
    }

    /// The port the server listens on (useful when the configuration asked for port 0).
    public var port: Int { state.withLock { $0.port } }

    /// Open connections across all loops.
    public var connectionCount: Int { core.openConnections.load(ordering: .relaxed) }

    /// Binds the listening sockets and starts the loops. Throws if the address cannot be bound.
    public func start() throws(SocketError) {
        let configuration = core.configuration
        var listeners: [Int32] = []
        do throws(SocketError) {
            var port = configuration.port
            for _ in 0..<configuration.loopCount {
                let fd = try Socket.listen(host: configuration.host, port: port)
                listeners.append(fd)
                port = Socket.localPort(fd)  // later loops join the port the first one got
            }
            var loops: [EventLoop] = []
            for (index, fd) in listeners.enumerated() {
                loops.append(try EventLoop(index: index, core: core, listener: fd))
            }
            let threads = WorkerPool(name: "http-loops", threadCount: loops.count)
            for loop in loops { threads.submit { loop.run() } }
            state.withLock {
                $0.loops = loops
                $0.threads = threads
                $0.port = port
            }
            core.logger.info("HTTP server listening on \(configuration.host):\(port) with \(loops.count) event loops")
        } catch {
            for fd in listeners { close(fd) }
            throw error
        }
    }

    /// Stops gracefully: no new connections; idle ones close; event streams get a final
    /// `shutdown` event; requests in flight finish. After `gracePeriod` seconds whatever is left
    /// is closed. Returns when every loop has stopped. Idempotent.
    public func shutdown(gracePeriod: Double = 10) {
        let (loops, threads) = state.withLock { state -> ([EventLoop], WorkerPool?) in
            defer { state.loops = []; state.threads = nil }
            return (state.loops, state.threads)
        }
        let deadline = MonotonicInstant.now().adding(seconds: gracePeriod)
        for loop in loops { loop.post(.drain(deadline: deadline)) }
        threads?.shutdown()
        core.workers.shutdown()
        stoppedSignal.withLock { state.withLock { $0.stopped = true } }
        stoppedSignal.broadcast()
        if !loops.isEmpty { core.logger.info("HTTP server stopped") }
    }

    /// Blocks the calling thread until `shutdown` has finished.
    public func waitUntilStopped() {
        stoppedSignal.withLock {
            stoppedSignal.withLockHeldWaiting(until: { state.withLock { $0.stopped } }) { _ in }
        }
    }
}
