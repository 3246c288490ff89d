/// What was on a machine, and when: the part, operator and work order that part, operator and
/// work-order roll-ups attribute the machine's time and counts to. `[start, end)` in seconds.
public struct ProductionContext: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public var part: String?
    public var operatorID: String?
    public var workOrder: String?

    public init(start: Double, end: Double, part: String? = nil, operatorID: String? = nil, workOrder: String? = nil) {
        self.start = start
        self.end = end
        self.part = part
        self.operatorID = operatorID
        self.workOrder = workOrder
    }
}

/// Parts counted at an instant (a cycle's end, a counter reading), or with no time: somewhere
/// in the window, which is enough for a whole-window OEE but cannot be split by shift or order.
public struct TimedPartCount: Sendable, Equatable {
    public var time: Double?
    public var count: PartCount

    public init(time: Double?, count: PartCount) {
        self.time = time
        self.count = count
    }
}

/// One machine's data over a window.
public struct MachineRecord: Sendable, Equatable {
    public var machine: String
    public var line: String
    public var intervals: [StateInterval]
    public var counts: [TimedPartCount]
    public var contexts: [ProductionContext]

    public init(machine: String, line: String, intervals: [StateInterval], counts: [TimedPartCount], contexts: [ProductionContext] = []) {
        self.machine = machine
        self.line = line
        self.intervals = intervals
        self.counts = counts
        self.contexts = contexts
    }
}

/// What a roll-up groups by.
public enum RollupDimension: String, Sendable, CaseIterable {
    case machine, line, shift, part
    case `operator`
    case workOrder = "work_order"

    /// Needs the machine's time cut where the production context changes.
    var followsContext: Bool { self == .part || self == .operator || self == .workOrder }
}

/// OEE rolled up by machine, line, shift, part, operator or work order.
///
/// Each machine's time is cut into slices wherever a grouping changes (a shift boundary, a new
/// work order); each slice is computed like a window of its own, and a group's OEE comes from
/// the sums of its slices' times and counts (`Result.combining`), never from an average of
/// percentages. A stop cut by a boundary is still judged small or not by its whole length, so
/// slicing never changes a machine's total: the slices of a machine add up to its whole window.
public struct OEERollup: Sendable {
    public var calculator: OEECalculator
    /// The shifts over the window (`ShiftCalendar.shifts`), or nil without a calendar. With a
    /// calendar, breaks and time outside every shift are planned: nothing was scheduled then.
    public var shifts: [ShiftInstance]?

    public init(calculator: OEECalculator = OEECalculator(), shifts: [ShiftInstance]? = nil) {
        self.calculator = calculator
        self.shifts = shifts
    }

    /// One group's figures.
    public struct Row: Sendable, Equatable {
        public var dimension: RollupDimension
        public var key: String
        public var result: OEECalculator.Result
    }

    /// The key of time no shift or context covers.
    public static let noShift = "(no shift)"
    public static let none = "(none)"

    /// The whole window over every machine, and a row per group for each dimension asked for,
    /// in the order asked; shifts in time order, other keys in text order.
    public func compute(
        windowStart: Double, windowEnd: Double, machines: [MachineRecord], by dimensions: [RollupDimension]
    ) throws(OEEError) -> (total: OEECalculator.Result, rows: [Row]) {
        guard windowEnd > windowStart else { throw OEEError("the window must end after it starts") }
        let breaks = plannedBreaks(windowStart, windowEnd)
        let byShift = dimensions.contains(.shift) && shifts != nil
        let byContext = dimensions.contains { $0.followsContext }
        var groups: [RollupDimension: [String: [OEECalculator.Result]]] = [:]
        var machineTotals: [OEECalculator.Result] = []
        var seen: Set<String> = []
        for record in machines {
            guard seen.insert(record.machine).inserted else { throw OEEError("machine \(record.machine) is listed twice") }
            let intervals: [StateInterval]
            do {
                intervals = try OEECalculator.validate(intervals: record.intervals, counts: record.counts.map(\.count))
            } catch {
                // One machine needs no naming; among several, say which.
                throw machines.count == 1 ? error : OEEError("machine \(record.machine): \(error.message)")
            }
            let contexts = record.contexts.sorted { $0.start < $1.start }
            for (previous, next) in zip(contexts, contexts.dropFirst()) where next.start < previous.end {
                throw OEEError("machine \(record.machine): production contexts overlap at \(next.start)")
            }
            var cuts = [windowStart, windowEnd]
            if byShift { cuts += (shifts ?? []).flatMap { [$0.start, $0.end] } }
            if byContext { cuts += contexts.flatMap { [$0.start, $0.end] } }
            let edges = Set(cuts.filter { $0 >= windowStart && $0 <= windowEnd }).sorted()
            let slices = zip(edges, edges.dropFirst()).map { ClosedOpenRange(start: $0, end: $1) }

            var sliceCounts = Array(repeating: [PartCount](), count: slices.count)
            for timed in record.counts {
                guard let time = timed.time else {
                    guard slices.count == 1 else {
                        throw OEEError("\(machines.count == 1 ? "" : "machine \(record.machine), ")part \(timed.count.part): a count without a time cannot be split by \(dimensions.filter { $0 == .shift || $0.followsContext }.map(\.rawValue).joined(separator: ", ")); give each count its time")
                    }
                    sliceCounts[0].append(timed.count)
                    continue
                }
                // A count stamped at t counts parts finished up to t: it belongs to the slice
                // that ends at or after t, and one stamped at the window's start to the window before.
                guard time > windowStart, time <= windowEnd else { continue }
                sliceCounts[Self.slice(endingAtOrAfter: time, in: slices)].append(timed.count)
            }

            var sliceResults: [OEECalculator.Result] = []
            var first = 0
            for (index, slice) in slices.enumerated() {
                while first < intervals.count && intervals[first].end <= slice.start { first += 1 }
                var last = first
                while last < intervals.count && intervals[last].start < slice.end { last += 1 }
                let result = calculator.computeValidated(
                    windowStart: slice.start, windowEnd: slice.end, intervals: intervals[first..<last],
                    counts: sliceCounts[index], plannedBreaks: breaks)
                sliceResults.append(result)
                let middle = (slice.start + slice.end) / 2
                let context = contexts.first { $0.start <= middle && middle < $0.end }
                for dimension in dimensions {
                    let key: String = switch dimension {
                    case .machine: record.machine
                    case .line: record.line
                    case .shift: shiftKey(at: middle)
                    case .part: context?.part ?? Self.none
                    case .operator: context?.operatorID ?? Self.none
                    case .workOrder: context?.workOrder ?? Self.none
                    }
                    groups[dimension, default: [:]][key, default: []].append(result)
                }
            }
            machineTotals.append(OEECalculator.Result.combining(sliceResults))
        }
        var rows: [Row] = []
        for dimension in dimensions {
            let keys = (groups[dimension] ?? [:]).keys.sorted { left, right in
                guard dimension == .shift else { return left < right }
                return (shiftStart(left), left) < (shiftStart(right), right)
            }
            for key in keys {
                rows.append(Row(dimension: dimension, key: key, result: .combining(groups[dimension]![key]!)))
            }
        }
        return (OEECalculator.Result.combining(machineTotals), rows)
    }

    /// Calendar breaks, and with a calendar every stretch of the window outside a shift.
    func plannedBreaks(_ windowStart: Double, _ windowEnd: Double) -> [ClosedOpenRange] {
        guard let shifts else { return [] }
        var breaks = shifts.flatMap(\.breaks)
        var cursor = windowStart
        for shift in shifts.sorted(by: { $0.start < $1.start }) {
            if shift.start > cursor { breaks.append(ClosedOpenRange(start: cursor, end: min(shift.start, windowEnd))) }
            cursor = max(cursor, shift.end)
        }
        if cursor < windowEnd { breaks.append(ClosedOpenRange(start: cursor, end: windowEnd)) }
        return breaks
    }

    /// `2026-11-23 early`: the local date the shift starts on and its name.
    func shiftKey(at instant: Double) -> String {
        guard let shift = shifts?.first(where: { $0.start <= instant && instant < $0.end }) else { return Self.noShift }
        return "\(shift.localDate) \(shift.name)"
    }

    func shiftStart(_ key: String) -> Double {
        shifts?.first { "\($0.localDate) \($0.name)" == key }?.start ?? .infinity
    }

    /// The first of the ordered, touching slices that ends at or after `time` (binary search).
    static func slice(endingAtOrAfter time: Double, in slices: [ClosedOpenRange]) -> Int {
        var low = 0
        var high = slices.count - 1
        while low < high {
            let middle = (low + high) / 2
            if slices[middle].end < time { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
