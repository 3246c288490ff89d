/// Overall equipment effectiveness over a window, with Nakajima's six big losses.
///
/// - Planned production time = the window less planned stops.
/// - Run time = running time plus small stops: unplanned stops and idle spells shorter than
///   `smallStopSeconds` count as a performance loss, not an availability loss (Nakajima).
/// - Availability = run time / planned production time.
/// - Performance = Σ(ideal cycle time × total count) / run time.
/// - Quality = good / total.  OEE = A × P × Q = fully productive time / planned production time.
///
/// Offline time and time no interval covers are availability losses of their own ("no data"):
/// the MES cannot vouch for them, and hiding them would flatter the number. Performance above
/// 100 % is reported and flagged, never capped: it means a wrong ideal cycle time or a count
/// error. Worked example: oee.com, "Calculate OEE" (the 8-hour shift, 19,271 parts).
public struct OEECalculator: Sendable {
    /// Stops shorter than this are small stops (performance), longer ones downtime (availability).
    public var smallStopSeconds: Double

    public init(smallStopSeconds: Double = 120) {
        self.smallStopSeconds = smallStopSeconds
    }

    /// Time in each loss, in seconds.
    public struct Losses: Sendable, Equatable, Encodable {
        public var plannedStops = 0.0
        public var breakdowns = 0.0
        public var setup = 0.0
        public var idle = 0.0
        public var noData = 0.0
        public var smallStops = 0.0
        public var speed = 0.0
        public var rejects = 0.0

        enum CodingKeys: String, CodingKey {
            case breakdowns, setup, idle, speed, rejects
            case plannedStops = "planned_stops"
            case noData = "no_data"
            case smallStops = "small_stops"
        }

        /// Every loss divided by `divisor`: `inUnits(of: 60)` gives minutes.
        public func inUnits(of divisor: Double) -> Losses {
            Losses(
                plannedStops: plannedStops / divisor, breakdowns: breakdowns / divisor, setup: setup / divisor, idle: idle / divisor,
                noData: noData / divisor, smallStops: smallStops / divisor, speed: speed / divisor, rejects: rejects / divisor)
        }
    }

    public struct Result: Sendable, Equatable {
        public var windowSeconds: Double
        public var plannedProductionSeconds: Double
        public var runSeconds: Double
        /// Σ ideal cycle × total: time all counted parts would take at the ideal rate.
        public var idealSeconds: Double
        /// Σ ideal cycle × good: time the good parts would take at the ideal rate.
        public var fullyProductiveSeconds: Double
        public var totalCount: Int
        public var goodCount: Int
        /// How many times a PLC counter behind the counts was reset (parts may be missing).
        public var counterResets: Int
        public var availability: Double
        public var performance: Double
        public var quality: Double
        public var oee: Double
        public var losses: Losses
        /// Anything a reader must know before trusting the number.
        public var flags: [String]

        /// The ratios and flags that follow from the times and counts: one rule for a single
        /// window and for a roll-up, so both read the same way.
        init(
            windowSeconds: Double, plannedProductionSeconds: Double, runSeconds: Double, idealSeconds: Double,
            fullyProductiveSeconds: Double, totalCount: Int, goodCount: Int, counterResets: Int, losses: Losses,
            unrecordedSeconds: Double
        ) {
            self.windowSeconds = windowSeconds
            self.plannedProductionSeconds = plannedProductionSeconds
            self.runSeconds = runSeconds
            self.idealSeconds = idealSeconds
            self.fullyProductiveSeconds = fullyProductiveSeconds
            self.totalCount = totalCount
            self.goodCount = goodCount
            self.counterResets = counterResets
            self.losses = losses
            self.unrecordedSeconds = unrecordedSeconds
            let planned = plannedProductionSeconds
            let run = runSeconds
            availability = planned > 0 ? run / planned : 0
            performance = run > 0 ? idealSeconds / run : 0
            quality = totalCount > 0 ? Double(goodCount) / Double(totalCount) : 0
            oee = availability * performance * quality
            var flags: [String] = []
            if unrecordedSeconds > 0.5 { flags.append("no state recorded for \(Int(unrecordedSeconds.rounded())) s of the window") }
            if performance > 1 {
                flags.append("performance above 100 %: check the ideal cycle times and the counts")
            }
            if planned <= 0 { flags.append("no planned production time in the window") }
            if totalCount == 0 && run > 0 { flags.append("the machine ran but no parts were counted") }
            if counterResets > 0 {
                flags.append("a part counter was reset \(counterResets) time\(counterResets == 1 ? "" : "s"): parts made just before a reset are missing")
            }
            self.flags = flags
        }

        /// Time recorded in no state (a part of `losses.noData`; the rest is offline time).
        var unrecordedSeconds: Double

        /// Several windows (machines, shifts, slices of one machine's time) as one: times,
        /// counts and losses add up and the ratios are taken from the sums, never averaged,
        /// so a roll-up weighs each machine by its planned time and its parts.
        public static func combining(_ results: [Result]) -> Result {
            var losses = Losses()
            for result in results {
                losses.plannedStops += result.losses.plannedStops
                losses.breakdowns += result.losses.breakdowns
                losses.setup += result.losses.setup
                losses.idle += result.losses.idle
                losses.noData += result.losses.noData
                losses.smallStops += result.losses.smallStops
                losses.speed += result.losses.speed
                losses.rejects += result.losses.rejects
            }
            func sum(_ value: (Result) -> Double) -> Double { results.reduce(0) { $0 + value($1) } }
            func count(_ value: (Result) -> Int) -> Int { results.reduce(0) { $0 + value($1) } }
            return Result(
                windowSeconds: sum(\.windowSeconds), plannedProductionSeconds: sum(\.plannedProductionSeconds),
                runSeconds: sum(\.runSeconds), idealSeconds: sum(\.idealSeconds), fullyProductiveSeconds: sum(\.fullyProductiveSeconds),
                totalCount: count(\.totalCount), goodCount: count(\.goodCount), counterResets: count(\.counterResets),
                losses: losses, unrecordedSeconds: sum(\.unrecordedSeconds))
        }
    }

    /// - Parameter plannedBreaks: breaks from the shift calendar (`ShiftInstance.breaks`): time
    ///   inside them is planned downtime whatever state the machine reports, and is never "no data".
    public func compute(
        windowStart: Double, windowEnd: Double, intervals: [StateInterval], counts: [PartCount],
        plannedBreaks: [ClosedOpenRange] = []
    ) throws(OEEError) -> Result {
        guard windowEnd > windowStart else { throw OEEError("the window must end after it starts") }
        try Self.validate(intervals: intervals, counts: counts)
        return computeValidated(windowStart: windowStart, windowEnd: windowEnd, intervals: intervals, counts: counts, plannedBreaks: plannedBreaks)
    }

    /// Refuses intervals that are empty or overlap and counts that cannot be right; returns the
    /// intervals in time order.
    @discardableResult
    static func validate(intervals: [StateInterval], counts: [PartCount]) throws(OEEError) -> [StateInterval] {
        for (index, interval) in intervals.enumerated() where !(interval.end > interval.start) {
            throw OEEError("interval \(index + 1) ends before or when it starts")
        }
        let sorted = intervals.enumerated().sorted { $0.element.start < $1.element.start }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where next.element.start < previous.element.end {
            throw OEEError("intervals \(previous.offset + 1) and \(next.offset + 1) overlap")
        }
        for count in counts {
            guard count.total >= 0, count.reject >= 0 else { throw OEEError("part \(count.part): counts cannot be negative") }
            guard count.reject <= count.total else { throw OEEError("part \(count.part): \(count.reject) rejects out of \(count.total) parts") }
            guard count.idealCycleSeconds > 0, count.idealCycleSeconds.isFinite else {
                throw OEEError("part \(count.part): the ideal cycle time must be positive")
            }
        }

        return sorted.map(\.element)
    }

    /// `compute` on input already checked: the roll-ups check each machine once, then call this
    /// for every slice of its time.
    func computeValidated(
        windowStart: Double, windowEnd: Double, intervals: some Sequence<StateInterval>, counts: [PartCount],
        plannedBreaks: [ClosedOpenRange]
    ) -> Result {
        let breaks = Self.union(plannedBreaks, within: windowStart, windowEnd)
        let breakSeconds = breaks.reduce(0) { $0 + $1.end - $1.start }
        var losses = Losses()
        losses.plannedStops = breakSeconds
        var running = 0.0
        var covered = 0.0
        for interval in intervals {
            // Clip to the window: a stop that began before the shift counts only from its start.
            let start = max(interval.start, windowStart)
            let end = min(interval.end, windowEnd)
            guard end > start else { continue }
            // Time inside a calendar break is already counted as planned.
            let seconds = end - start - Self.overlap(start, end, breaks)
            guard seconds > 0 else { continue }
            covered += seconds
            switch interval.state {
            case .running: running += seconds
            case .plannedStop: losses.plannedStops += seconds
            case .setup: losses.setup += seconds
            case .offline: losses.noData += seconds
            case .unplannedStop, .idle:
                if interval.isShort(under: smallStopSeconds) {
                    losses.smallStops += seconds
                } else if interval.state == .idle {
                    losses.idle += seconds
                } else {
                    losses.breakdowns += seconds
                }
            }
        }
        let window = windowEnd - windowStart
        losses.noData += window - breakSeconds - covered
        let planned = window - losses.plannedStops
        let run = running + losses.smallStops
        let idealTotal = counts.reduce(0.0) { $0 + $1.idealCycleSeconds * Double($1.total) }
        let idealGood = counts.reduce(0.0) { $0 + $1.idealCycleSeconds * Double($1.total - $1.reject) }
        let totalCount = counts.reduce(0) { $0 + $1.total }
        let goodCount = counts.reduce(0) { $0 + $1.total - $1.reject }
        losses.rejects = idealTotal - idealGood
        losses.speed = run - idealTotal - losses.smallStops
        return Result(
            windowSeconds: window, plannedProductionSeconds: planned, runSeconds: run, idealSeconds: idealTotal,
            fullyProductiveSeconds: idealGood, totalCount: totalCount, goodCount: goodCount,
            counterResets: counts.reduce(0) { $0 + $1.counterResets }, losses: losses,
            unrecordedSeconds: window - breakSeconds - covered)
    }

    /// The breaks clipped to the window, merged where they touch or overlap, in order.
    static func union(_ ranges: [ClosedOpenRange], within start: Double, _ end: Double) -> [ClosedOpenRange] {
        let clipped = ranges.map { ClosedOpenRange(start: max($0.start, start), end: min($0.end, end)) }
            .filter { $0.end > $0.start }.sorted { $0.start < $1.start }
        var merged: [ClosedOpenRange] = []
        for range in clipped {
            if let last = merged.last, range.start <= last.end {
                merged[merged.count - 1].end = max(last.end, range.end)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// Seconds of `[start, end)` inside the (merged, ordered) ranges.
    static func overlap(_ start: Double, _ end: Double, _ ranges: [ClosedOpenRange]) -> Double {
        ranges.reduce(0) { $0 + max(0, min(end, $1.end) - max(start, $1.start)) }
    }
}

/// Input that cannot give a trustworthy OEE.
public struct OEEError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
