#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import TimeZones

/// `mes oee`: OEE and its loss tree from a JSON file of state intervals and part counts, for one
/// machine or several, optionally over a shift calendar and rolled up (format in docs/cli.md).
public struct OEEAnalysis: Sendable {
    public var smallStopSeconds: Double
    /// Groupings to report besides the whole window.
    public var rollups: [RollupDimension]

    public init(smallStopSeconds: Double = 120, rollups: [RollupDimension] = []) {
        self.smallStopSeconds = smallStopSeconds
        self.rollups = rollups
    }

    /// The groupings named in a comma-separated list: `"line,shift"`.
    public init(smallStopSeconds: Double = 120, groups: String) throws(AnalysisError) {
        var rollups: [RollupDimension] = []
        for name in groups.split(separator: ",") {
            let name = String(name.filter { $0 != " " })
            guard let dimension = RollupDimension(rawValue: name) else {
                throw AnalysisError("'\(name)' is not one of \(Self.groupNames.joined(separator: ", "))")
            }
            if !rollups.contains(dimension) { rollups.append(dimension) }
        }
        self.init(smallStopSeconds: smallStopSeconds, rollups: rollups)
    }

    /// What `--by` accepts.
    public static let groupNames = RollupDimension.allCases.map(\.rawValue)

    struct Input: Decodable {
        struct Window: Decodable { var start: String; var end: String }
        struct Interval: Decodable {
            var start: String
            var end: String
            var state: String
            var reason: String?
            var part: String?
            var operatorID: String?
            var workOrder: String?
            enum CodingKeys: String, CodingKey {
                case start, end, state, reason, part
                case operatorID = "operator"
                case workOrder = "work_order"
            }
        }
        struct Reading: Decodable { var time: String; var total: Int64; var reject: Int64? }
        struct Count: Decodable {
            var part: String
            var idealCycleSeconds: Double
            var total: Int?
            var reject: Int?
            var time: String?
            var readings: [Reading]?
            var counterMax: Int64?
            enum CodingKeys: String, CodingKey {
                case part, total, reject, time, readings
                case idealCycleSeconds = "ideal_cycle_seconds"
                case counterMax = "counter_max"
            }
        }
        struct Machine: Decodable {
            var machine: String
            var line: String?
            var intervals: [Interval]
            var counts: [Count]
        }
        struct Calendar: Decodable {
            struct Break: Decodable { var start: String; var minutes: Int }
            struct Shift: Decodable {
                var name: String
                var start: String
                var end: String
                var weekdays: [Int]?
                var breaks: [Break]?
            }
            var timeZone: String
            var shifts: [Shift]
            enum CodingKeys: String, CodingKey {
                case shifts
                case timeZone = "time_zone"
            }
        }
        var window: Window
        /// One machine's name and line, for the single-machine form.
        var machine: String?
        var line: String?
        var intervals: [Interval]?
        var counts: [Count]?
        var machines: [Machine]?
        var calendar: Calendar?
    }

    /// OEE figures in the stable shape of docs/cli.md; losses in minutes.
    public struct Figures: Sendable, Equatable, Encodable {
        public var plannedProductionSeconds: Double
        public var runSeconds: Double
        public var availability: Double
        public var performance: Double
        public var quality: Double
        public var oee: Double
        /// Minutes lost to each cause.
        public var losses: OEECalculator.Losses
        public var flags: [String]
        enum CodingKeys: String, CodingKey {
            case availability, performance, quality, oee, losses, flags
            case plannedProductionSeconds = "planned_production_seconds"
            case runSeconds = "run_seconds"
        }

        init(_ result: OEECalculator.Result) {
            plannedProductionSeconds = result.plannedProductionSeconds
            runSeconds = result.runSeconds
            availability = result.availability
            performance = result.performance
            quality = result.quality
            oee = result.oee
            losses = result.losses.inUnits(of: 60)
            flags = result.flags
        }
    }

    /// One group of a roll-up: `{"by": "shift", "key": "2026-11-23 early", …figures}`.
    public struct Row: Sendable, Equatable, Encodable {
        public var by: String
        public var key: String
        public var figures: Figures

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: RowKeys.self)
            try container.encode(by, forKey: .by)
            try container.encode(key, forKey: .key)
            try figures.encode(to: encoder)
        }
        enum RowKeys: String, CodingKey { case by, key }
    }

    /// The whole window's figures, and the roll-up rows when any were asked for.
    public struct Output: Sendable, Equatable, Encodable {
        public var figures: Figures
        public var rollups: [Row]

        public var plannedProductionSeconds: Double { figures.plannedProductionSeconds }
        public var runSeconds: Double { figures.runSeconds }
        public var oee: Double { figures.oee }
        public var losses: OEECalculator.Losses { figures.losses }
        public var flags: [String] { figures.flags }

        public func encode(to encoder: any Encoder) throws {
            try figures.encode(to: encoder)
            guard !rollups.isEmpty else { return }
            var container = encoder.container(keyedBy: OutputKeys.self)
            try container.encode(rollups, forKey: .rollups)
        }
        enum OutputKeys: String, CodingKey { case rollups }
    }

    public func run(json: [UInt8], name: String) throws(AnalysisError) -> Output {
        let input: Input
        do {
            input = try JSONDecoder().decode(Input.self, from: Data(json))
        } catch let error as DecodingError {
            throw AnalysisError("\(name): \(Self.describe(error))")
        } catch {
            throw AnalysisError("\(name): not valid JSON")
        }
        func fail(_ message: String) -> AnalysisError { AnalysisError("\(name): \(message)") }
        func instant(_ text: String, _ field: String) throws(AnalysisError) -> Double {
            guard let date = Self.parseISO8601(text) else {
                throw fail("\(field) '\(text.prefix(40))' is not an ISO 8601 date-time with a time zone")
            }
            return date.timeIntervalSince1970
        }

        let machineInputs: [(path: String, machine: Input.Machine)]
        switch (input.machines, input.intervals, input.counts) {
        case (let machines?, nil, nil):
            machineInputs = machines.enumerated().map { ("machines[\($0.offset)].", $0.element) }
        case (nil, let intervals?, let counts?):
            machineInputs = [("", Input.Machine(machine: input.machine ?? "machine", line: input.line, intervals: intervals, counts: counts))]
        case (nil, nil, _):
            throw fail("intervals is missing")
        case (nil, _, nil):
            throw fail("counts is missing")
        default:
            throw fail("give either machines or intervals and counts, not both")
        }

        var records: [MachineRecord] = []
        for (path, machine) in machineInputs {
            var record = MachineRecord(machine: machine.machine, line: machine.line ?? "(no line)", intervals: [], counts: [])
            for (index, interval) in machine.intervals.enumerated() {
                let field = "\(path)intervals[\(index)]"
                guard let state = MachineState(rawValue: interval.state) else {
                    throw fail("\(field).state '\(interval.state)' is not one of \(MachineState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let start = try instant(interval.start, "\(field).start")
                let end = try instant(interval.end, "\(field).end")
                record.intervals.append(StateInterval(start: start, end: end, state: state, reason: interval.reason))
                if interval.part != nil || interval.operatorID != nil || interval.workOrder != nil {
                    record.contexts.append(ProductionContext(
                        start: start, end: end, part: interval.part, operatorID: interval.operatorID, workOrder: interval.workOrder))
                }
            }
            for (index, count) in machine.counts.enumerated() {
                record.counts += try timedCounts(count, field: "\(path)counts[\(index)]", fail: fail, instant: instant)
            }
            records.append(record)
        }

        do {
            let windowStart = try instant(input.window.start, "window.start")
            let windowEnd = try instant(input.window.end, "window.end")
            var shifts: [ShiftInstance]?
            if let calendar = input.calendar {
                shifts = try Self.shiftCalendar(calendar, fail: fail).shifts(from: windowStart, to: windowEnd)
            }
            let rollup = OEERollup(calculator: OEECalculator(smallStopSeconds: smallStopSeconds), shifts: shifts)
            let (total, rows) = try rollup.compute(windowStart: windowStart, windowEnd: windowEnd, machines: records, by: rollups)
            return Output(
                figures: Figures(total),
                rollups: rows.map { Row(by: $0.dimension.rawValue, key: $0.key, figures: Figures($0.result)) })
        } catch let error as OEEError {
            throw fail(error.message)
        } catch let error as ShiftError {
            throw fail("calendar: \(error.message)")
        } catch let error as AnalysisError {
            throw error
        } catch {
            throw fail("\(error)")
        }
    }

    /// A count as given (`total`, `reject`, optional `time`), or PLC counter readings turned into
    /// counts at each reading's time, with the counter's resets reported.
    func timedCounts(
        _ count: Input.Count, field: String, fail: (String) -> AnalysisError,
        instant: (String, String) throws(AnalysisError) -> Double
    ) throws(AnalysisError) -> [TimedPartCount] {
        func partCount(total: Int, reject: Int, resets: Int = 0) -> PartCount {
            PartCount(part: count.part, idealCycleSeconds: count.idealCycleSeconds, total: total, reject: reject, counterResets: resets)
        }
        guard let readings = count.readings else {
            guard let total = count.total else { throw fail("\(field): give total (and reject) or readings") }
            let time = try count.time.map { (text: String) throws(AnalysisError) -> Double in try instant(text, "\(field).time") }
            return [TimedPartCount(time: time, count: partCount(total: total, reject: count.reject ?? 0))]
        }
        guard count.total == nil, count.reject == nil else { throw fail("\(field): give total (and reject) or readings, not both") }
        let maximum = count.counterMax ?? Int64(UInt32.max)
        guard maximum > 0 else { throw fail("\(field).counter_max must be positive") }
        var totals = CounterTracker(maximum: maximum)
        var rejects = CounterTracker(maximum: maximum)
        var timed: [(time: Double, milliseconds: Int64, reading: Input.Reading, index: Int)] = []
        for (index, reading) in readings.enumerated() {
            let time = try instant(reading.time, "\(field).readings[\(index)].time")
            guard reading.total >= 0, (reading.reject ?? 0) >= 0 else { throw fail("\(field).readings[\(index)]: a counter cannot be negative") }
            timed.append((time, Int64((time * 1000).rounded()), reading, index))
        }
        var result: [TimedPartCount] = []
        for entry in timed.sorted(by: { $0.time < $1.time }) {
            let total = totals.record(value: entry.reading.total, timestampMilliseconds: entry.milliseconds)
            let reject = entry.reading.reject.map { rejects.record(value: $0, timestampMilliseconds: entry.milliseconds) }
            let resets = (total.reset ? 1 : 0) + (reject?.reset == true ? 1 : 0)
            guard total.parts > 0 || resets > 0 else { continue }
            let rejected = reject?.parts ?? 0
            guard rejected <= total.parts else {
                throw fail("\(field).readings[\(entry.index)]: the reject counter rose by \(rejected), more than the total counter (\(total.parts))")
            }
            result.append(TimedPartCount(time: entry.time, count: partCount(total: Int(total.parts), reject: Int(rejected), resets: resets)))
        }
        return result
    }

    /// `"06:00"` → minute 360.
    static func minute(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
            let hour = Int(parts[0]), let minute = Int(parts[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        return hour * 60 + minute
    }

    static func shiftCalendar(_ calendar: Input.Calendar, fail: (String) -> AnalysisError) throws(AnalysisError) -> ShiftCalendar {
        guard let zone = FoundationTimeZone(identifier: calendar.timeZone) else {
            throw fail("calendar.time_zone '\(calendar.timeZone)' is not a known time zone (e.g. Europe/Berlin)")
        }
        var patterns: [ShiftPattern] = []
        for (index, shift) in calendar.shifts.enumerated() {
            let field = "calendar.shifts[\(index)]"
            guard let start = minute(shift.start) else { throw fail("\(field).start '\(shift.start)' is not a time HH:MM") }
            guard let end = minute(shift.end) else { throw fail("\(field).end '\(shift.end)' is not a time HH:MM") }
            var breaks: [ShiftPattern.Break] = []
            for (breakIndex, item) in (shift.breaks ?? []).enumerated() {
                guard let breakStart = minute(item.start) else {
                    throw fail("\(field).breaks[\(breakIndex)].start '\(item.start)' is not a time HH:MM")
                }
                guard item.minutes > 0 else { throw fail("\(field).breaks[\(breakIndex)].minutes must be positive") }
                breaks.append(ShiftPattern.Break(startMinute: breakStart, minutes: item.minutes))
            }
            patterns.append(ShiftPattern(
                name: shift.name, startMinute: start, endMinute: end, weekdays: Set(shift.weekdays ?? Array(1...7)), breaks: breaks))
        }
        return ShiftCalendar(patterns: patterns, timeZone: zone)
    }

    /// `2026-11-23T06:00:00Z`, with or without fractional seconds; a zone is required.
    static func parseISO8601(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A decoding error as a path and a reason: `counts[1].total: expected a number`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "\(parent.isEmpty ? "" : parent + ".")\(key.stringValue) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type == String.self ? "a string" : type == Int.self ? "a whole number" : type == Double.self ? "a number" : "\(type)")"
        case .valueNotFound(_, let context):
            return "\(path(context.codingPath)) is null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context.codingPath)): malformed value"
        @unknown default:
            return "unreadable JSON"
        }
    }
}
