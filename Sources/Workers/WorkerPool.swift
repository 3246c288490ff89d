import Glibc

/// A fixed set of OS threads that run blocking work (libpq calls, file I/O) off Swift's
/// cooperative thread pool.
///
/// Work is queued in FIFO order; `run(_:)` suspends the calling task until a worker has run the
/// closure. The pool never grows, so blocking work can never starve the cooperative pool or
/// spawn a thread per request.
public final class WorkerPool: @unchecked Sendable {
    public typealias Job = @Sendable () -> Void

    private let lock = ConditionLock()
    // Guarded by `lock`.
    private var queue: [Job] = []
    private var head = 0
    private var stopping = false
    private var threads: [pthread_t] = []

    /// The name each worker thread carries (visible in `top -H` and debuggers).
    public let name: String
    /// How many threads the pool runs.
    public let threadCount: Int

    /// Starts `threadCount` threads at once.
    public init(name: String, threadCount: Int) {
        precondition(threadCount > 0, "a worker pool needs at least one thread")
        self.name = name
        self.threadCount = threadCount
        for index in 0..<threadCount {
            let context = Unmanaged.passRetained(WorkerContext(pool: self, index: index)).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                context.pool.workerLoop(index: context.index)
                return nil
            }, context)
            precondition(rc == 0, "pthread_create failed: \(String(cString: strerror(rc)))")
            threads.append(thread)
        }
    }

    /// Queues `job` to run on a worker thread and returns at once; false (and the job dropped)
    /// once the pool is shut down.
    @discardableResult
    public func submit(_ job: @escaping Job) -> Bool {
        let accepted = lock.withLock {
            guard !stopping else { return false }
            queue.append(job)
            return true
        }
        if accepted { lock.signal() }
        return accepted
    }

    /// Runs `body` on a worker thread and returns its result to the calling task.
    /// Throws `WorkerPoolError.shutDown` if the pool no longer takes work.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = submit { continuation.resume(with: Result { try body() }) }
            if !accepted { continuation.resume(throwing: WorkerPoolError.shutDown(name)) }
        }
    }

    /// Runs the queued work, then stops and joins every thread. Idempotent.
    public func shutdown() {
        let toJoin: [pthread_t] = lock.withLock {
            stopping = true
            defer { threads = [] }
            return threads
        }
        lock.broadcast()
        for thread in toJoin where !pthread_equal(thread, pthread_self()).isTrue {
            pthread_join(thread, nil)
        }
    }

    private func workerLoop(index: Int) {
        while true {
            let job: Job? = lock.withLock {
                lock.withLockHeldWaiting(until: { head < queue.count || stopping }) { _ in
                guard head < queue.count else { return nil }
                let job = queue[head]
                head += 1
                // Compact the array now and then so a long-lived queue does not keep every closure.
                if head > 1024 && head * 2 > queue.count {
                    queue.removeFirst(head)
                    head = 0
                }
                return job
                }
            }
            guard let job else { return }
            job()
        }
    }
}

/// Why a `WorkerPool` refused work.
public enum WorkerPoolError: Error, Equatable {
    /// The named pool was shut down.
    case shutDown(String)
}

private final class WorkerContext {
    let pool: WorkerPool
    let index: Int
    init(pool: WorkerPool, index: Int) {
        self.pool = pool
        self.index = index
    }
}

private extension Int32 {
    var isTrue: Bool { self != 0 }
}
