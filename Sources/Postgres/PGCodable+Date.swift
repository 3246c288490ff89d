import CivilDate

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
/// Calendar arithmetic comes from `CivilDate` (proleptic Gregorian, as PostgreSQL uses), so no
/// Calendar or time-zone database is needed.
enum PGTimestamp {
    static let microsPerDay: Int64 = 86_400_000_000

    /// `2026-11-23 07:05:09.000123+00`, always in UTC.
    static func format(microsecondsSince1970 micros: Int64) -> String {
        let days = micros >= 0 ? micros / microsPerDay : (micros - microsPerDay + 1) / microsPerDay
        var rest = micros - days * microsPerDay
        let date = CivilDate(daysSince1970: days)
        let (year, month, day) = (date.year, date.month, date.day)
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
        let days = CivilDate(year: year, month: month, day: day).daysSince1970
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1_000_000 + fraction
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
