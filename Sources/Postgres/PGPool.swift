import Logging
import Workers

/// Settings of a `PGPool`.
public struct PGPoolConfiguration: Sendable {
    /// Connection URL or libpq key/value string (see `PGConnection.connect`).
    public var url: String
    /// The most connections open at once; also the number of threads running async leases.
    public var maxConnections: Int
    /// Seconds a lease waits for a free connection before failing with `poolTimeout`.
    public var acquireTimeout: Double
    /// Shown in `pg_stat_activity`.
    public var applicationName: String

    public init(url: String, maxConnections: Int = 8, acquireTimeout: Double = 10, applicationName: String = "mes") {
        self.url = url
        self.maxConnections = max(1, maxConnections)
        self.acquireTimeout = acquireTimeout
        self.applicationName = applicationName
    }
}

/// A bounded pool of PostgreSQL connections.
///
/// Connections open lazily, up to `maxConnections`; a lease waits (up to `acquireTimeout`) when
/// all are busy. A connection whose server went away while it sat idle is replaced before it is
/// handed out, and one returned broken, or inside a transaction, is rolled back or closed, so a
/// lease always starts on a healthy idle session.
///
/// Two ways to lease:
/// - `withConnection(_:)` blocks the calling thread: for threads the caller owns (HTTP workers,
///   the CLI's main thread). It is unavailable from async code.
/// - `await withConnection(_:)` runs the closure on the pool's own worker threads, so blocking
///   libpq calls never occupy Swift's cooperative thread pool.
public final class PGPool: @unchecked Sendable {
    public let configuration: PGPoolConfiguration
    private let logger: Logger
    private let workers: WorkerPool
    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var idle: [PGConnection] = []
    private var openCount = 0
    private var waiting = 0
    private var closed = false

    public init(configuration: PGPoolConfiguration, logger: Logger = Logger(label: "mes.postgres")) {
        self.configuration = configuration
        self.logger = logger
        self.workers = WorkerPool(name: "pg", threadCount: configuration.maxConnections)
    }

    /// Leases a connection for `body`, blocking this thread while waiting. The connection must
    /// not escape `body`.
    @discardableResult
    @available(*, noasync, message: "use the async withConnection, which keeps libpq off the cooperative pool")
    public func withConnection<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let connection = try acquire(deadline: leaseDeadline())
        defer { release(connection) }
        return try body(connection)
    }

    /// Leases a connection and runs `body` on one of the pool's worker threads. The acquire
    /// timeout counts from this call, so time spent queued for a worker counts too.
    @discardableResult
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let deadline = leaseDeadline()
        return try await workers.run { [self] in
            let connection = try acquire(deadline: deadline)
            defer { release(connection) }
            return try body(connection)
        }
    }

    /// Runs `body` in a transaction on a leased connection, blocking this thread.
    @discardableResult
    @available(*, noasync, message: "use the async transaction")
    public func transaction<T>(isolation: PGIsolationLevel? = nil, _ body: (PGConnection) throws -> T) throws -> T {
        let connection = try acquire(deadline: leaseDeadline())
        defer { release(connection) }
        return try connection.transaction(isolation: isolation, body)
    }

    /// Runs `body` in a transaction on a leased connection, on the pool's worker threads.
    @discardableResult
    public func transaction<T: Sendable>(
        isolation: PGIsolationLevel? = nil, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in try connection.transaction(isolation: isolation, body) }
    }

    /// A snapshot of the pool's occupancy.
    public var statistics: (open: Int, idle: Int, waiting: Int) {
        lock.withLock { (openCount, idle.count, waiting) }
    }

    /// Closes idle connections and refuses new leases; leased connections close when returned.
    public func close() {
        lock.withLock {
            closed = true
            openCount -= idle.count
            idle = []  // the last references: the connections close in deinit
        }
        lock.broadcast()
        workers.shutdown()
    }

    private func leaseDeadline() -> MonotonicInstant {
        MonotonicInstant.now().adding(seconds: configuration.acquireTimeout)
    }

    private var timeoutError: PGError {
        PGError(.poolTimeout, "no database connection became free within \(configuration.acquireTimeout) s (pool of \(configuration.maxConnections))")
    }

    private func acquire(deadline: MonotonicInstant) throws -> PGConnection {
        guard MonotonicInstant.now() < deadline else { throw timeoutError }
        // Either take an idle connection, or reserve a slot to open a new one outside the lock.
        enum Grant { case reuse(PGConnection), open }
        while true {
            let grant: Grant = try lock.withLock {
                waiting += 1
                defer { waiting -= 1 }
                return try lock.withLockHeldWaiting(
                    until: { closed || !idle.isEmpty || openCount < configuration.maxConnections },
                    deadline: deadline
                ) { ready in
                    if closed { throw PGError(.poolClosed, "the connection pool is closed") }
                    guard ready else { throw timeoutError }
                    if let connection = idle.popLast() { return .reuse(connection) }
                    openCount += 1
                    return .open
                }
            }
            switch grant {
            case .reuse(let connection):
                if !connection.hasBrokenWhileIdle() { return connection }
                logger.info("replacing a pooled PostgreSQL connection that broke while idle")
                discardSlot()
            case .open:
                do {
                    return try PGConnection.connect(url: configuration.url, applicationName: configuration.applicationName)
                } catch {
                    discardSlot()
                    throw error
                }
            }
        }
    }

    private func release(_ connection: PGConnection) {
        var healthy = connection.isOpen
        if healthy && connection.transactionStatus != .idle {
            // A lease that left a transaction open must not hand it to the next lease.
            logger.warning("a pooled connection was returned inside a transaction; rolling back")
            healthy = (try? connection.execute("ROLLBACK")) != nil && connection.transactionStatus == .idle
        }
        let keep = lock.withLock {
            guard healthy, !closed else {
                openCount -= 1
                return false
            }
            idle.append(connection)
            return true
        }
        if !keep { logger.debug("closing a pooled PostgreSQL connection") }
        lock.signal()
    }

    private func discardSlot() {
        lock.withLock { openCount -= 1 }
        lock.signal()
    }
}
