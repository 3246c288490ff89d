/// Production KPIs besides OEE, as plant managers read them (definitions after ISO 22400-2,
/// "Key performance indicators for manufacturing operations management").
public enum ProductionKPIs {
    /// Scrap rate: scrapped quantity over produced quantity (good + scrap); nil when nothing
    /// was produced.
    public static func scrapRate(good: Double, scrap: Double) throws(KPIError) -> Double? {
        guard good >= 0, scrap >= 0 else { throw KPIError("quantities cannot be negative") }
        let produced = good + scrap
        return produced > 0 ? scrap / produced : nil
    }

    /// First-pass yield: parts good at the first attempt (neither scrapped nor reworked) over
    /// parts started; nil when nothing was started.
    public static func firstPassYield(started: Double, scrap: Double, rework: Double) throws(KPIError) -> Double? {
        guard started >= 0, scrap >= 0, rework >= 0 else { throw KPIError("quantities cannot be negative") }
        guard scrap + rework <= started else { throw KPIError("scrap and rework exceed the parts started") }
        return started > 0 ? (started - scrap - rework) / started : nil
    }

    /// Schedule attainment: quantity produced over quantity planned for the period. Above 1
    /// means over-production and is reported as such, not capped; nil when nothing was planned.
    public static func scheduleAttainment(produced: Double, planned: Double) throws(KPIError) -> Double? {
        guard produced >= 0, planned >= 0 else { throw KPIError("quantities cannot be negative") }
        return planned > 0 ? produced / planned : nil
    }

    /// Mean time between failures and mean time to repair from a window's state intervals:
    /// failures are unplanned stops at least `minimumStopSeconds` long (shorter ones are small
    /// stops, a performance loss); MTBF = running time / failures, MTTR = failure time / failures.
    /// Both are nil without a failure.
    public static func reliability(
        intervals: [StateInterval], windowStart: Double, windowEnd: Double, minimumStopSeconds: Double = 120
    ) -> (mtbfSeconds: Double?, mttrSeconds: Double?, failures: Int) {
        var running = 0.0
        var repairing = 0.0
        var failures = 0
        for interval in intervals {
            let seconds = min(interval.end, windowEnd) - max(interval.start, windowStart)
            guard seconds > 0 else { continue }
            switch interval.state {
            case .running:
                running += seconds
            case .unplannedStop where !interval.isShort(under: minimumStopSeconds):
                repairing += seconds
                failures += 1
            default:
                break
            }
        }
        guard failures > 0 else { return (nil, nil, 0) }
        return (running / Double(failures), repairing / Double(failures), failures)
    }
}

/// Quantities that cannot give a KPI.
public struct KPIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
