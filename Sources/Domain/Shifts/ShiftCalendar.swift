import CivilDate

/// The UTC offset of a time zone at any instant. Domain stays free of a time-zone database:
/// the caller supplies one (Foundation's `TimeZone` in the service layer, a fixed table in tests).
public protocol TimeZoneOffsets: Sendable {
    /// Seconds to add to UTC to get local time at `instant` (seconds since 1970).
    func offset(at instant: Double) -> Int
}

/// A shift as the plant writes it: local wall-clock start and end, days it runs, and its
/// planned breaks in local time. An end at or before the start means the shift ends the next day.
public struct ShiftPattern: Sendable, Equatable {
    public struct Break: Sendable, Equatable {
        /// Local start, minutes after midnight of the day it falls on.
        public var startMinute: Int
        public var minutes: Int
        public init(startMinute: Int, minutes: Int) {
            self.startMinute = startMinute
            self.minutes = minutes
        }
    }

    public var name: String
    public var startMinute: Int
    public var endMinute: Int
    /// ISO weekdays the shift starts on: 1 = Monday … 7 = Sunday.
    public var weekdays: Set<Int>
    public var breaks: [Break]

    public init(name: String, startMinute: Int, endMinute: Int, weekdays: Set<Int> = Set(1...5), breaks: [Break] = []) {
        self.name = name
        self.startMinute = startMinute
        self.endMinute = endMinute
        self.weekdays = weekdays
        self.breaks = breaks
    }
}

/// One occurrence of a shift, in UTC seconds since 1970.
public struct ShiftInstance: Sendable, Equatable {
    public var name: String
    /// The local date the shift starts on, `YYYY-MM-DD`: the key reports group by.
    public var localDate: String
    public var start: Double
    public var end: Double
    /// Planned breaks inside the shift, `[start, end)`.
    public var breaks: [ClosedOpenRange]
}

/// `[start, end)` in seconds.
public struct ClosedOpenRange: Sendable, Equatable {
    public var start: Double
    public var end: Double
    public init(start: Double, end: Double) {
        self.start = start
        self.end = end
    }
}

/// Turns shift patterns into concrete shifts in a site's time zone.
///
/// Times are wall-clock: a 22:00–06:00 night shift lasts 9 hours on the night clocks go back
/// and 7 on the night they go forward, as it does on the floor. A wall-clock time that does
/// not exist (skipped by the spring change) moves forward by the gap; one that occurs twice
/// (the autumn change) means its first occurrence.
public struct ShiftCalendar: Sendable {
    public var patterns: [ShiftPattern]
    public var timeZone: any TimeZoneOffsets

    public init(patterns: [ShiftPattern], timeZone: any TimeZoneOffsets) {
        self.patterns = patterns
        self.timeZone = timeZone
    }

    /// Every shift that overlaps `[start, end)`, in start order.
    public func shifts(from start: Double, to end: Double) throws(ShiftError) -> [ShiftInstance] {
        guard end > start else { throw ShiftError("the range must end after it starts") }
        for pattern in patterns {
            guard (0..<1440).contains(pattern.startMinute), (0..<1440).contains(pattern.endMinute) else {
                throw ShiftError("shift \(pattern.name): times must be within a day (minute 0 to 1439)")
            }
            guard pattern.weekdays.allSatisfy({ (1...7).contains($0) }) else {
                throw ShiftError("shift \(pattern.name): weekdays are 1 (Monday) to 7 (Sunday)")
            }
        }
        // Local days from the day before the range to the day after: a shift that began the
        // evening before can still overlap it.
        let firstDay = Self.dayNumber(local: start + Double(timeZone.offset(at: start))) - 1
        let lastDay = Self.dayNumber(local: end + Double(timeZone.offset(at: end))) + 1
        var result: [ShiftInstance] = []
        for day in firstDay...lastDay {
            let weekday = Self.isoWeekday(day)
            for pattern in patterns where pattern.weekdays.contains(weekday) {
                let shiftStart = utc(day: day, minute: pattern.startMinute)
                let endDay = pattern.endMinute <= pattern.startMinute ? day + 1 : day
                let shiftEnd = utc(day: endDay, minute: pattern.endMinute)
                guard shiftEnd > start, shiftStart < end else { continue }
                var breaks: [ClosedOpenRange] = []
                for item in pattern.breaks {
                    // A break belongs to the day that puts it inside the shift.
                    for breakDay in [day, day + 1] {
                        let breakStart = utc(day: breakDay, minute: item.startMinute)
                        let breakEnd = breakStart + Double(item.minutes * 60)
                        if breakStart >= shiftStart && breakEnd <= shiftEnd {
                            breaks.append(ClosedOpenRange(start: breakStart, end: breakEnd))
                            break
                        }
                    }
                }
                result.append(ShiftInstance(
                    name: pattern.name, localDate: Self.dateString(day), start: shiftStart, end: shiftEnd,
                    breaks: breaks.sorted { $0.start < $1.start }))
            }
        }
        return result.sorted { $0.start < $1.start }
    }

    /// The UTC instant of local wall-clock `minute` on local `day` (days since 1970-01-01).
    func utc(day: Int, minute: Int) -> Double {
        let local = Double(day) * 86_400 + Double(minute) * 60
        // Offset changes are far less than a day apart, so the offsets a day before and a day
        // after are the two that can apply to this reading.
        let before = local - Double(timeZone.offset(at: local - 86_400))
        let after = local - Double(timeZone.offset(at: local + 86_400))
        let valid = [before, after].filter { Double(timeZone.offset(at: $0)) + $0 == local }
        // Two readings (the autumn hour): the earlier. None (the spring gap): the reading with
        // the old offset, which lands after the gap, i.e. moved forward by it.
        return valid.min() ?? before
    }

    static func dayNumber(local seconds: Double) -> Int { Int((seconds / 86_400).rounded(.down)) }

    /// ISO weekday of a day number: 1970-01-01 was a Thursday (4).
    static func isoWeekday(_ day: Int) -> Int { ((day % 7) + 7 + 3) % 7 + 1 }

    /// `YYYY-MM-DD` of a day number.
    static func dateString(_ day: Int) -> String { CivilDate(daysSince1970: Int64(day)).isoString }
}

/// A shift definition or range that cannot be used.
public struct ShiftError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
