import Foundation
import Workers

/// A clock the test moves by hand, for services that take a `clock` closure.
public final class TestClock: Sendable {
    private let now = Locked(Date(timeIntervalSince1970: 1_795_420_800))  // 2026-11-23 08:00 UTC, a Monday

    public init() {}

    public var read: @Sendable () -> Date { { [self] in now.withLock { $0 } } }

    public func advance(_ seconds: Double) { now.withLock { $0 += seconds } }
}
