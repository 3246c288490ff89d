import CivilDate
import Foundation
import JSON

/// Tryton's JSON for values JSON lacks: `{"__class__": "datetime", "year": …}` and friends.
/// Datetimes are naive and read as UTC (Tryton stores its server's time; run its database in
/// UTC, as the test harness does).
enum TrytonValue {
    static func datetime(_ date: Date) -> JSONValue {
        let seconds = date.timeIntervalSince1970
        let days = Int64((seconds / 86_400).rounded(.down))
        let civil = CivilDate(daysSince1970: days)
        let secondOfDay = seconds - Double(days) * 86_400
        let whole = Int(secondOfDay.rounded(.down))
        let micro = Int(((secondOfDay - Double(whole)) * 1_000_000).rounded(.down))
        return [
            "__class__": "datetime", "year": .number(Double(civil.year)), "month": .number(Double(civil.month)),
            "day": .number(Double(civil.day)), "hour": .number(Double(whole / 3600)), "minute": .number(Double(whole % 3600 / 60)),
            "second": .number(Double(whole % 60)), "microsecond": .number(Double(micro)),
        ]
    }

    /// The UTC day of `date`.
    static func date(_ date: Date) -> JSONValue {
        let civil = CivilDate(daysSince1970: Int64((date.timeIntervalSince1970 / 86_400).rounded(.down)))
        return ["__class__": "date", "year": .number(Double(civil.year)), "month": .number(Double(civil.month)), "day": .number(Double(civil.day))]
    }

    static func timedelta(seconds: Double) -> JSONValue {
        ["__class__": "timedelta", "seconds": .number(seconds)]
    }

    /// A `datetime` value as an instant, nil for anything else.
    static func instant(_ value: JSONValue?) -> Date? {
        guard let value, value["__class__"]?.stringValue == "datetime", let year = value["year"]?.intValue,
              let month = value["month"]?.intValue, let day = value["day"]?.intValue
        else { return nil }
        let days = CivilDate(year: Int64(year), month: Int64(month), day: Int64(day)).daysSince1970
        let seconds = Double((value["hour"]?.intValue ?? 0) * 3600 + (value["minute"]?.intValue ?? 0) * 60 + (value["second"]?.intValue ?? 0))
        return Date(timeIntervalSince1970: Double(days) * 86_400 + seconds + Double(value["microsecond"]?.intValue ?? 0) / 1_000_000)
    }

    /// A `date` value as `YYYY-MM-DD`, nil for anything else.
    static func day(_ value: JSONValue?) -> String? {
        guard let value, value["__class__"]?.stringValue == "date", let year = value["year"]?.intValue,
              let month = value["month"]?.intValue, let day = value["day"]?.intValue
        else { return nil }
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))"
    }

    /// A number, or a `Decimal` value, as a Double.
    static func number(_ value: JSONValue?) -> Double? {
        if let number = value?.doubleValue { return number }
        if value?["__class__"]?.stringValue == "Decimal", let text = value?["decimal"]?.stringValue { return Double(text) }
        return nil
    }
}
