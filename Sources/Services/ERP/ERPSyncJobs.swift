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
public final class ERPSyncJobs: Sendable {
    let pull: ERPPull?
    let dispatcher: OutboxDispatcher?
    let pullInterval: Double
    let pushInterval: Double
    let logger: Logger
    private let stopping = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let thread = WorkerPool(name: "mes-erp-jobs", threadCount: 1)

    public init(pull: ERPPull?, dispatcher: OutboxDispatcher?, pullInterval: Double, pushInterval: Double,
                logger: Logger = Logger(label: "mes.erp.jobs")) {
        self.pull = pull
        self.dispatcher = dispatcher
        self.pullInterval = pullInterval
        self.pushInterval = pushInterval
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

    private func drain() throws -> OutboxDispatcher.Report? {
        guard let dispatcher else { return nil }
        var total = OutboxDispatcher.Report()
        while true {
            let report = try dispatcher.runOnce(limit: 500)
            total.sent += report.sent
            total.skipped += report.skipped
            total.retried += report.retried
            total.dead += report.dead
            if report.sent + report.skipped + report.retried + report.dead < 500 { return total }
        }
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
