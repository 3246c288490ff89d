import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Workers

/// The ERP jobs of one process: a pull every `pullInterval` seconds and the outbox dispatcher,
/// which drains what is due and then waits `pushInterval` seconds. They run on a thread of
/// their own; a failure (the ERP or the database away) is logged and tried again at the next
/// turn, never ends the loop. `mes sync` runs them alone, `mes serve` beside the web server.
///
/// The outbox is drained by `pushConcurrency` threads at once. They cannot send one entry
/// twice or an order's entries out of order: each takes its entry with `FOR UPDATE SKIP
/// LOCKED`, and an entry waits while an earlier one of its work order is pending, as between
/// nodes. What it buys is time: an ERP call mostly waits for the ERP, and Tryton serves
/// several at once.
public final class ERPSyncJobs: Sendable {
    let pull: ERPPull?
    let dispatcher: OutboxDispatcher?
    let pullInterval: Double
    let pushInterval: Double
    let pushConcurrency: Int
    let logger: Logger
    private let stopping = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let thread = WorkerPool(name: "mes-erp-jobs", threadCount: 1)
    private let pushers: WorkerPool?

    /// - Parameter pushConcurrency: outbox entries sent at once; the pool needs as many
    ///   connections, since each entry's transaction stays open during its ERP call.
    public init(pull: ERPPull?, dispatcher: OutboxDispatcher?, pullInterval: Double, pushInterval: Double, pushConcurrency: Int = 1,
                logger: Logger = Logger(label: "mes.erp.jobs")) {
        self.pull = pull
        self.dispatcher = dispatcher
        self.pullInterval = pullInterval
        self.pushInterval = pushInterval
        self.pushConcurrency = max(1, pushConcurrency)
        pushers = pushConcurrency > 1 ? WorkerPool(name: "mes-erp-push", threadCount: pushConcurrency) : nil
        self.logger = logger
    }

    /// What one turn did.
    public struct Turn: Sendable {
        public var pull: ERPPull.Report?
        public var push: OutboxDispatcher.Report?
    }

    /// One pull (if configured) and one pass over every due outbox entry. Throws what stopped
    /// the pull; the push still runs first.
    public func runOnce() throws -> Turn {
        var turn = Turn()
        var failure: (any Error)?
        do { turn.pull = try pull?.run() } catch { failure = error }
        turn.push = try drain()
        if let failure { throw failure }
        return turn
    }

    /// Sends every due entry, with `pushConcurrency` threads; throws the first failure.
    private func drain() throws -> OutboxDispatcher.Report? {
        guard let dispatcher else { return nil }
        let batch = 100
        @Sendable func drainAlone() throws -> OutboxDispatcher.Report {
            var total = OutboxDispatcher.Report()
            while true {
                let report = try dispatcher.runOnce(limit: batch)
                total.add(report)
                if report.sent + report.skipped + report.retried + report.dead < batch { return total }
            }
        }
        guard let pushers else { return try drainAlone() }
        let results = Locked<(report: OutboxDispatcher.Report, failure: (any Error)?)>((OutboxDispatcher.Report(), nil))
        let group = DispatchGroup()
        for _ in 0..<pushConcurrency {
            group.enter()
            let submitted = pushers.submit {
                defer { group.leave() }
                do {
                    let report = try drainAlone()
                    results.withLock { $0.report.add(report) }
                } catch {
                    results.withLock { if $0.failure == nil { $0.failure = error } }
                }
            }
            if !submitted { group.leave() }
        }
        group.wait()
        let (report, failure) = results.withLock { ($0.report, $0.failure) }
        if let failure { throw failure }
        return report
    }

    /// Starts the loop on its own thread.
    public func start() {
        _ = thread.submit { [self] in
            var nextPull = Date.distantPast
            while true {
                if let pull, Date() >= nextPull {
                    nextPull = Date().addingTimeInterval(pullInterval)
                    do {
                        let report = try pull.run()
                        if report.ran {
                            let created = report.counts.values.reduce(0) { $0 + $1.created }, updated = report.counts.values.reduce(0) { $0 + $1.updated }
                            logger.info("ERP pull done", metadata: ["created": "\(created)", "updated": "\(updated)", "problems": "\(report.problems.count)"])
                        }
                    } catch {
                        logger.warning("ERP pull failed; next try in \(pullInterval) s", metadata: ["error": "\(error)"])
                    }
                }
                do {
                    if let report = try drain(), report.sent + report.skipped + report.dead > 0 {
                        logger.info("ERP outbox pass", metadata: ["sent": "\(report.sent)", "skipped": "\(report.skipped)", "dead": "\(report.dead)"])
                    }
                } catch {
                    logger.warning("ERP outbox pass failed", metadata: ["error": "\(error)"])
                }
                let wait = min(pushInterval, max(0.05, nextPull.timeIntervalSinceNow))
                if stopping.wait(timeout: .now() + wait) == .success { break }
            }
            stopped.signal()
        }
    }

    /// Asks the loop to stop after its current step and waits for it.
    public func stop() {
        stopping.signal()
        stopped.wait()
    }
}
