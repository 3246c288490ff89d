import Foundation
import Domain
import Logging
import Metrics
import Services
import Workers

/// Turns MQTT messages into batches for the machine-data service, and never loses one it
/// accepted while the process lives.
///
/// `accept` runs on the MQTT network thread: it decodes the message and appends it to a
/// pending list. A writer thread of its own hands the pending messages to
/// `MachineDataService.ingest` in batches (at most `batchSize` messages, at most `batchDelay`
/// old), one transaction each. When the database fails, batches go to the disk spool and the
/// writer retries with exponential backoff; once a write succeeds it drains the spool, oldest
/// first, before anything newer. Pending messages beyond `memoryLimit` are spooled at once, so
/// memory stays bounded however long the database is away.
///
/// What a `kill -9` loses: the messages still pending in memory (normally under `batchDelay`'s
/// worth), because the broker considers a QoS 1 message delivered once the client has it.
/// Spooled and committed batches survive.
public final class MachineDataCollector: @unchecked Sendable {
    // @unchecked: every `var` below is only touched with `lock` held.

    public struct Settings: Sendable {
        public var batchSize: Int
        public var batchDelay: Double
        public var memoryLimit: Int
        public var retryDelay: (minimum: Double, maximum: Double)

        public init(batchSize: Int = 5_000, batchDelay: Double = 0.02, memoryLimit: Int = 100_000, retryDelay: (minimum: Double, maximum: Double) = (0.2, 10)) {
            self.batchSize = batchSize
            self.batchDelay = batchDelay
            self.memoryLimit = memoryLimit
            self.retryDelay = retryDelay
        }
    }

    /// Counters since the start, for logs, the health page and the benchmarks.
    public struct Statistics: Sendable, Equatable {
        public var received = 0
        public var stored = 0
        public var duplicates = 0
        public var deadLetters = 0
        public var spooledBatches = 0
        public var failedWrites = 0
        /// Messages accepted but not yet in the database (pending or spooled).
        public var waiting = 0
    }

    /// Decodes one MQTT message into machine messages and dead letters.
    public typealias Decoder = @Sendable (_ topic: String, _ payload: [UInt8], _ receivedAt: Date) -> (messages: [MachineMessage], deadLetters: [DeadLetter])
    /// Called on every turn of the writer thread (at least every `batchDelay`) and once more
    /// with `final` true when stopping: messages a decoder held back and now releases (the
    /// Sparkplug host's reorder window).
    public typealias Tick = @Sendable (_ now: Date, _ final: Bool) -> (messages: [MachineMessage], deadLetters: [DeadLetter])

    let service: MachineDataService
    let spool: Spool
    let settings: Settings
    let decoder: Decoder
    let tick: Tick?
    let logger: Logger
    private let lock = ConditionLock()
    private var pending: [MachineMessage] = []
    private var pendingLetters: [DeadLetter] = []
    private var oldestPending: MonotonicInstant?
    private var statistics = Statistics()
    private var spooledMessages = 0
    private var stopping = false
    private var writerRunning = false
    private var failures = 0
    private var retryAt: MonotonicInstant?
    private let metrics = CollectorMetrics()

    public init(
        service: MachineDataService, spool: Spool, settings: Settings = Settings(), decoder: @escaping Decoder, tick: Tick? = nil,
        logger: Logger = Logger(label: "mes.collector")
    ) {
        self.service = service
        self.spool = spool
        self.settings = settings
        self.decoder = decoder
        self.tick = tick
        self.logger = logger
    }

    /// The plain JSON dialect (`mes/...` topics); anything else is a dead letter.
    public static let jsonDecoder: Decoder = { topic, payload, receivedAt in
        switch JSONDialect.decode(topic: topic, payload: payload) {
        case .success(let message): return ([message], [])
        case .failure(let reason): return ([], [DeadLetter(receivedAt: receivedAt, topic: topic, payload: payload, reason: reason.reason)])
        }
    }

    /// Bucket bounds for the `mes_collector_batch_size` histogram: a batch holds from one
    /// message to `batchSize` (5,000 by default).
    public static let batchSizeBuckets: [Double] = [1, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000]

    public var currentStatistics: Statistics {
        lock.withLock {
            var statistics = statistics
            statistics.waiting = pending.count + pendingLetters.count + spooledMessages
            return statistics
        }
    }

    /// Starts the writer thread.
    public func start() {
        lock.withLock {
            writerRunning = true
            spooledMessages = spool.pending.count  // batches, until read; a lower bound for the log
        }
        let thread = Thread { [self] in writerLoop() }
        thread.name = "mes-collector"
        thread.start()
    }

    /// Takes one MQTT message. Safe from any thread; never blocks on the database.
    public func accept(topic: String, payload: [UInt8], receivedAt: Date = Date()) {
        append(decoder(topic, payload, receivedAt), received: 1)
    }

    /// Queues decoded messages for the writer, spooling at once beyond the memory limit.
    private func append(_ decoded: (messages: [MachineMessage], deadLetters: [DeadLetter]), received: Int) {
        if decoded.messages.isEmpty && decoded.deadLetters.isEmpty && received == 0 { return }
        if received > 0 { metrics.received.increment(by: received) }
        let overflow: Spool.Batch? = lock.withLock {
            statistics.received += received
            if pending.isEmpty && pendingLetters.isEmpty { oldestPending = .now() }
            pending += decoded.messages
            pendingLetters += decoded.deadLetters
            if pending.count >= settings.batchSize { lock.signal() }
            guard pending.count + pendingLetters.count >= settings.memoryLimit else { return nil }
            return takePending(all: true)
        }
        if let overflow { spoolBatch(overflow) }
    }

    /// Writes or spools everything pending, then stops the writer thread.
    public func stop() {
        if let tick { append(tick(Date(), true), received: 0) }
        lock.withLock {
            stopping = true
            lock.broadcast()
            lock.withLockHeldWaiting(until: { !writerRunning }) { _ in }
        }
    }

    /// With the lock held.
    private func takePending(all: Bool) -> Spool.Batch {
        let count = all ? pending.count : min(pending.count, settings.batchSize)
        let batch = Spool.Batch(messages: Array(pending.prefix(count)), deadLetters: pendingLetters)
        pending.removeFirst(count)
        pendingLetters.removeAll()
        oldestPending = pending.isEmpty ? nil : .now()
        return batch
    }

    private func spoolBatch(_ batch: Spool.Batch) {
        do {
            try spool.append(batch)
            metrics.spooledBatches.increment()
            lock.withLock {
                statistics.spooledBatches += 1
                spooledMessages += batch.messages.count + batch.deadLetters.count
            }
        } catch {
            // The disk failed too: keep the batch in memory rather than lose it.
            logger.error("spool failed, keeping \(batch.messages.count) messages in memory: \(error)")
            lock.withLock {
                pending.insert(contentsOf: batch.messages, at: 0)
                pendingLetters.insert(contentsOf: batch.deadLetters, at: 0)
            }
        }
    }

    private func writerLoop() {
        while true {
            if let tick { append(tick(Date(), false), received: 0) }
            enum Work { case spooled(String), batch(Spool.Batch), toSpool(Spool.Batch), idle, finished }
            let hasSpool = !spool.pending.isEmpty
            let work: Work = lock.withLock {
                let deadline = MonotonicInstant.now().adding(seconds: settings.batchDelay)
                return lock.withLockHeldWaiting(until: { stopping || pending.count >= settings.batchSize }, deadline: deadline) { _ in
                    let now = MonotonicInstant.now()
                    let due = !pending.isEmpty || !pendingLetters.isEmpty
                    let waitingForRetry = retryAt.map { now < $0 } ?? false
                    if waitingForRetry {
                        // The database is away: park what is due on disk, keep memory bounded.
                        if due { return .toSpool(takePending(all: true)) }
                        return stopping ? .finished : .idle
                    }
                    // Oldest first: while the spool holds batches, newer ones join it.
                    if let first = hasSpool ? spool.pending.first : nil {
                        if due && (stopping || pending.count >= settings.batchSize) { return .toSpool(takePending(all: true)) }
                        return .spooled(first)
                    }
                    if due { return .batch(takePending(all: false)) }
                    return stopping ? .finished : .idle
                }
            }
            switch work {
            case .finished:
                lock.withLock {
                    writerRunning = false
                    lock.broadcast()
                }
                return
            case .idle:
                continue
            case .toSpool(let batch):
                spoolBatch(batch)
            case .spooled(let path):
                do {
                    let batch = try spool.read(path)
                    if write(batch) {
                        spool.remove(path)
                        lock.withLock { spooledMessages = max(0, spooledMessages - batch.messages.count - batch.deadLetters.count) }
                    }
                } catch {
                    // A spool file that cannot be read is kept for a person to look at, and skipped.
                    logger.error("\(error); moving it aside")
                    rename(path, path + ".unreadable")
                }
            case .batch(let batch):
                if !write(batch) {
                    spoolBatch(batch)
                }
            }
        }
    }

    /// One transaction; false (and a retry scheduled) when the database failed.
    private func write(_ batch: Spool.Batch) -> Bool {
        do {
            let started = MonotonicInstant.now()
            let report = try service.ingest(batch.messages, deadLetters: batch.deadLetters)
            let seconds = MonotonicInstant.now().seconds(since: started)
            metrics.written(batch: batch.messages.count + batch.deadLetters.count, report: report, seconds: seconds)
            logger.debug("wrote \(batch.messages.count) messages in \(Int(seconds * 1000)) ms: \(report.stored) new, \(report.statusChanges.count) status changes")
            lock.withLock {
                statistics.stored += report.stored
                statistics.duplicates += report.duplicates
                statistics.deadLetters += report.deadLetters
                if failures > 0 { logger.info("database back after \(failures) failed writes") }
                failures = 0
                retryAt = nil
            }
            return true
        } catch {
            metrics.failedWrites.increment()
            lock.withLock {
                statistics.failedWrites += 1
                failures += 1
                let delay = min(settings.retryDelay.maximum, settings.retryDelay.minimum * Double(1 << min(failures - 1, 16)))
                retryAt = MonotonicInstant.now().adding(seconds: delay)
                if failures == 1 || failures % 20 == 0 {
                    logger.warning("cannot write a batch of \(batch.messages.count) messages (\(error)); spooling, retry in \(delay) s")
                }
            }
            return false
        }
    }
}

/// What the collector reports to swift-metrics (Prometheus at `mes serve`'s `/metrics`, or
/// `mes collect --metrics-address`), counted where it happens. Without a bootstrapped metrics
/// system these cost nothing.
struct CollectorMetrics {
    /// MQTT messages taken from the broker (before decoding).
    let received = Counter(label: "mes_mqtt_messages_received_total")
    /// Machine messages committed to the database (new ones; duplicates are counted apart).
    let stored = Counter(label: "mes_mqtt_messages_stored_total")
    let duplicates = Counter(label: "mes_mqtt_duplicates_total")
    /// Messages that could not be read, stored in `dead_letter` with the reason.
    let deadLettered = Counter(label: "mes_mqtt_dead_lettered_total")
    /// Messages and dead letters per database transaction.
    let batchSize = Recorder(label: "mes_collector_batch_size")
    let batchSeconds = Timer(label: "mes_collector_batch_duration_seconds")
    let failedWrites = Counter(label: "mes_collector_failed_writes_total")
    let spooledBatches = Counter(label: "mes_collector_spooled_batches_total")

    func written(batch: Int, report: MachineDataService.IngestReport, seconds: Double) {
        batchSize.record(batch)
        batchSeconds.recordNanoseconds(Int64(seconds * 1e9))
        stored.increment(by: report.stored)
        duplicates.increment(by: report.duplicates)
        deadLettered.increment(by: report.deadLetters)
    }
}
