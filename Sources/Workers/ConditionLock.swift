import Glibc

/// A mutex with a condition variable, for code that must block an OS thread until a state changes
/// (a pool lease, a work queue). `Locked` is the simpler tool when no one waits: it owns its
/// value, where this guards state the caller keeps beside it.
///
/// Never wait on it from Swift's cooperative thread pool: only from threads you own.
public final class ConditionLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Deadlines are measured on the monotonic clock so a wall-clock jump cannot stretch a timeout.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        precondition(pthread_cond_init(condition, &attributes) == 0, "pthread_cond_init failed")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` with the lock held.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Waits until `predicate` is true or `deadline` passes, then runs `body`, which learns
    /// whether the predicate holds. Call only from inside `withLock`.
    public func withLockHeldWaiting<T>(
        until predicate: () -> Bool,
        deadline: MonotonicInstant? = nil,
        _ body: (Bool) throws -> T
    ) rethrows -> T {
        var satisfied = predicate()
        while !satisfied {
            if let deadline {
                var time = deadline.cTimespec
                if pthread_cond_timedwait(condition, mutex, &time) == ETIMEDOUT {
                    satisfied = predicate()
                    break
                }
            } else {
                pthread_cond_wait(condition, mutex)
            }
            satisfied = predicate()
        }
        return try body(satisfied)
    }

    /// Wakes one waiter. Call after changing the guarded state.
    public func signal() { pthread_cond_signal(condition) }

    /// Wakes every waiter.
    public func broadcast() { pthread_cond_broadcast(condition) }
}

/// A point on the monotonic clock, in nanoseconds.
public struct MonotonicInstant: Comparable, Sendable {
    public var nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The current monotonic time.
    public static func now() -> MonotonicInstant {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return MonotonicInstant(nanoseconds: UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec))
    }

    /// This instant moved forward by `seconds`.
    public func adding(seconds: Double) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: nanoseconds &+ UInt64(max(0, seconds) * 1e9))
    }

    /// Seconds from `other` to this instant (negative when `other` is later).
    public func seconds(since other: MonotonicInstant) -> Double {
        (Double(nanoseconds) - Double(other.nanoseconds)) / 1e9
    }

    var cTimespec: timespec {
        timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    }

    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}
