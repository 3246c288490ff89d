import Foundation
import Mustache

/// The page both servers render: a line's 20 machines, about 2 KB of HTML, from one template.
public struct PageFixture: Sendable {
    public let template: MustacheTemplate

    public init(templatePath: String) throws {
        template = try MustacheTemplate(string: String(contentsOfFile: templatePath, encoding: .utf8))
    }

    /// Renders the page with fresh data, as a request would. Dictionaries, not structs, since
    /// swift-mustache renders them about three times faster (it reflects over structs).
    public func render(tick: Int) -> String {
        let states = ["running", "idle", "down", "setup"]
        let machines: [[String: Any]] = (1...20).map { n in
            [
                "code": "M-\(n < 10 ? "0" : "")\(n)",
                "state": states[(n + tick) % states.count],
                "minutes": (n * 7 + tick) % 240,
                "order": "WO-\(24000 + n)",
                "good": n * 37,
                "planned": n * 40,
            ]
        }
        let context: [String: Any] = ["line": "Line 2 — Machining", "shift": "B", "machines": machines]
        return template.render(context)
    }
}

/// Wall-clock nanoseconds, the payload of every benchmark event (the client computes latency).
public func realtimeNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_REALTIME, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// `--name value` from the command line.
public func argument(_ name: String, default value: String) -> String {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count else { return value }
    return arguments[index + 1]
}

/// A counter shared by request handlers on several threads.
public final class RequestCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    public init() {}

    public func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
