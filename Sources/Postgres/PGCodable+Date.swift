#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `timestamptz`, to the microsecond. Sent as UTC text; read from the ISO output
/// (`DateStyle = ISO`, PostgreSQL's default), whatever the session's time zone.
extension Date: PGCodable {
    public static var pgTypeOID: UInt32 { PGTypeOID.timestamptz }

    public var pgValue: PGBind.Value {
        if self == .distantFuture { return .text("infinity") }
        if self == .distantPast { return .text("-infinity") }
        return .text(PGTimestamp.format(microsecondsSince1970: Int64((timeIntervalSince1970 * 1_000_000).rounded())))
    }

    public static func pgDecode(_ text: UnsafeBufferPointer<UInt8>?) throws(PGCellError) -> Date {
        guard let text else { throw .unexpectedNull }
        guard let micros = PGTimestamp.parse(text) else {
            let string = String(decoding: text, as: UTF8.self)
            switch string {
            case "infinity": return .distantFuture
            case "-infinity": return .distantPast
            default: throw PGCellError("is not a timestamp: '\(string)'")
            }
        }
        return Date(timeIntervalSince1970: Double(micros) / 1_000_000)
    }
}

/// Conversions between microseconds since 1970-01-01 UTC and PostgreSQL's ISO timestamp text.
/// Calendar arithmetic is Howard Hinnant's days-from-civil algorithm (proleptic Gregorian, as
/// PostgreSQL uses), so no Calendar or time zone database is needed.
enum PGTimestamp {
    static let microsPerDay: Int64 = 86_400_000_000

    /// `2026-11-23 07:05:09.000123+00`, always in UTC.
    static func format(microsecondsSince1970 micros: Int64) -> String {
        let days = micros >= 0 ? micros / microsPerDay : (micros - microsPerDay + 1) / microsPerDay
        var rest = micros - days * microsPerDay
        let (year, month, day) = civil(fromDays: days)
        let hour = rest / 3_600_000_000
        rest -= hour * 3_600_000_000
        let minute = rest / 60_000_000
        rest -= minute * 60_000_000
        let second = rest / 1_000_000
        let fraction = rest - second * 1_000_000
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2)) \(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
        if fraction != 0 { text += "." + pad(fraction, 6) }
        return text + "+00"
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM[:SS]]]`; no offset means UTC
    /// (`timestamp without time zone`). Returns nil for anything else.
    static func parse(_ text: UnsafeBufferPointer<UInt8>) -> Int64? {
        var index = 0
        func number(_ digits: Int) -> Int64? {
            guard index + digits <= text.count else { return nil }
            var value: Int64 = 0
            for _ in 0..<digits {
                let digit = text[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int64(digit)
                index += 1
            }
            return value
        }
        func expect(_ character: Character) -> Bool {
            guard index < text.count, text[index] == character.asciiValue! else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect(" "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
              let second = number(2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        var fraction: Int64 = 0
        if expect(".") {
            var digits = 0
            while index < text.count, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9") {
                if digits < 6 { fraction = fraction * 10 + Int64(text[index] - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 6) { fraction *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if index < text.count {
            let sign: Int64
            switch text[index] {
            case UInt8(ascii: "+"): sign = 1
            case UInt8(ascii: "-"): sign = -1
            default: return nil
            }
            index += 1
            guard let offsetHours = number(2) else { return nil }
            offsetSeconds = offsetHours * 3600
            if expect(":") {
                guard let offsetMinutes = number(2) else { return nil }
                offsetSeconds += offsetMinutes * 60
                if expect(":") {
                    guard let extraSeconds = number(2) else { return nil }
                    offsetSeconds += extraSeconds
                }
            }
            offsetSeconds *= sign
        }
        guard index == text.count else { return nil }
        let days = days(fromCivil: year, month, day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000 + fraction
    }

    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
