import Glibc

/// A value that threads share, behind a pthread mutex: what `Synchronization.Mutex` does, with
/// one difference that matters to us. The standard library's Mutex locks with futexes inside an
/// uninstrumented library, so ThreadSanitizer cannot see its locking and reports every access
/// it guards as a race; pthread locks are intercepted by the sanitizer, so under `Locked` a
/// report from `scripts/sanitize.sh` is a real race. Uncontended, both cost about the same.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched with `mutex` held.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the lock held, on the value in place.
    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
