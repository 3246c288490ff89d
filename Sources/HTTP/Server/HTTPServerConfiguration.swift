/// Settings of an `HTTPServer`. Defaults suit a plant: wall screens connected for days,
/// tablets on bad Wi-Fi, a few hundred users.
public struct HTTPServerConfiguration: Sendable {
    /// Address to listen on; `0.0.0.0` or `::` for every interface.
    public var host: String
    /// Port; 0 picks a free one (read it back from `HTTPServer.port`).
    public var port: Int
    /// Event-loop threads, each with its own listening socket (SO_REUSEPORT). Default: one per core.
    public var loopCount: Int
    /// Threads that run `.worker` handlers (those that may block on the database).
    public var workerCount: Int
    public var limits: HTTPLimits
    /// Seconds from a request's first byte to its complete head: 408 beyond (slowloris).
    public var headerTimeout: Double
    /// Seconds to receive a request body once its head is in: 408 beyond.
    public var bodyTimeout: Double
    /// Seconds an idle keep-alive connection stays open.
    public var idleTimeout: Double
    /// Seconds a response may sit unsent before the connection is dropped.
    public var writeTimeout: Double
    /// Most open connections across all loops; beyond, new ones get 503 and are closed.
    public var maxConnections: Int
    /// Seconds between heartbeat comments on idle event streams.
    public var sseHeartbeat: Double
    /// Bytes an event-stream client may fall behind before it is dropped.
    public var sseMaxBufferedBytes: Int
    /// Seconds between handing freed memory back to the system (0: never). Pages of a hundred
    /// kilobytes and more, built on many threads, leave glibc's per-thread arenas full of free
    /// space it otherwise keeps; the process's size then creeps up although nothing leaks.
    public var memoryReturnInterval: Double

    public init(
        host: String = "127.0.0.1", port: Int = 8080, loopCount: Int = HTTPServerConfiguration.coreCount,
        workerCount: Int = 16, limits: HTTPLimits = HTTPLimits(), headerTimeout: Double = 10, bodyTimeout: Double = 60,
        idleTimeout: Double = 75, writeTimeout: Double = 30, maxConnections: Int = 10_000, sseHeartbeat: Double = 15,
        sseMaxBufferedBytes: Int = 256 * 1024, memoryReturnInterval: Double = 30
    ) {
        self.host = host
        self.port = port
        self.loopCount = max(1, loopCount)
        self.workerCount = max(1, workerCount)
        self.limits = limits
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.maxConnections = maxConnections
        self.sseHeartbeat = sseHeartbeat
        self.sseMaxBufferedBytes = sseMaxBufferedBytes
        self.memoryReturnInterval = memoryReturnInterval
    }

    /// Online CPU cores.
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

import Glibc
