import Testing
import Workers

struct WorkerPoolTests {
    @Test func run_returnsTheResultAndRethrows() async throws {
        let pool = WorkerPool(name: "t", threadCount: 2)
        defer { pool.shutdown() }
        #expect(try await pool.run { 6 * 7 } == 42)
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await pool.run { throw Failure() } }
    }

    @Test func jobs_runInParallelUpToTheThreadCount() async throws {
        // Two jobs that each wait for the other can only finish if two threads run them at once.
        let pool = WorkerPool(name: "t", threadCount: 2)
        defer { pool.shutdown() }
        let meeting = Rendezvous()
        async let a: Bool = pool.run { meeting.arriveAndWait() }
        async let b: Bool = pool.run { meeting.arriveAndWait() }
        #expect(try await [a, b] == [true, true])
    }

    @Test func shutdown_finishesQueuedWorkThenRefusesMore() async throws {
        let pool = WorkerPool(name: "t", threadCount: 1)
        let done = Locked(0)
        for _ in 0..<100 { pool.submit { done.withLock { $0 += 1 } } }
        pool.shutdown()
        #expect(done.withLock { $0 } == 100)
        #expect(pool.submit {} == false)
        await #expect(throws: WorkerPoolError.shutDown("t")) { try await pool.run { 1 } }
        pool.shutdown()
    }

    @Test func conditionLock_waitTimesOutAtTheDeadline() {
        let lock = ConditionLock()
        let start = MonotonicInstant.now()
        let satisfied = lock.withLock {
            lock.withLockHeldWaiting(until: { false }, deadline: start.adding(seconds: 0.05)) { $0 }
        }
        #expect(satisfied == false)
        #expect(MonotonicInstant.now().seconds(since: start) >= 0.05)
    }
}

/// Two threads meet: each counts itself in, then waits (up to 5 s) for the other.
private final class Rendezvous: @unchecked Sendable {
    private let lock = ConditionLock()
    private var arrived = 0  // guarded by `lock`

    func arriveAndWait() -> Bool {
        lock.withLock { arrived += 1 }
        lock.broadcast()
        return lock.withLock {
            lock.withLockHeldWaiting(until: { arrived >= 2 }, deadline: .now().adding(seconds: 5)) { $0 }
        }
    }
}
