import Foundation
import Mustache

/// One machine row of the benchmark page; both servers render the same rows.
public struct MachineRow: Sendable {
    public let code: String
    public let state: String
    public let minutes: Int
    public let order: String
    public let good: Int
    public let planned: Int

    /// The line's 20 machines as a request numbered `tick` sees them (states rotate).
    public static func line(tick: Int) -> [MachineRow] {
        let states = ["running", "idle", "down", "setup"]
        return (1...20).map { n in
            MachineRow(
                code: "M-\(n < 10 ? "0" : "")\(n)", state: states[(n + tick) % states.count], minutes: (n * 7 + tick) % 240,
                order: "WO-\(24000 + n)", good: n * 37, planned: n * 40)
        }
    }
}

public let pageLine = "Line 2 — Machining"
public let pageShift = "B"

/// The page as Hummingbird renders it: swift-mustache, a line's 20 machines, about 2 KB of HTML.
public struct PageFixture: Sendable {
    public let template: MustacheTemplate

    public init(templatePath: String) throws {
        template = try MustacheTemplate(string: String(contentsOfFile: templatePath, encoding: .utf8))
    }

    /// Renders the page with fresh data, as a request would. Dictionaries, not structs, since
    /// swift-mustache renders them about three times faster (it reflects over structs).
    public func render(tick: Int) -> String {
        let machines: [[String: Any]] = MachineRow.line(tick: tick).map { row in
            ["code": row.code, "state": row.state, "minutes": row.minutes, "order": row.order, "good": row.good, "planned": row.planned]
        }
        let context: [String: Any] = ["line": pageLine, "shift": pageShift, "machines": machines]
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
