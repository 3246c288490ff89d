#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// Text-format conformances for the standard types. PostgreSQL's text output is stable and
// documented per type (https://www.postgresql.org/docs/15/datatype.html); parsing it directly
// from libpq's buffer avoids an intermediate String for numbers.

extension Optional: PGEncodable where Wrapped: PGEncodable {
    public static var pgTypeOID: UInt32 { Wrapped.pgTypeOID }
    public var pgValue: PGBind.Value { self?.pgValue ?? .null }
}

extension Optional: PGDecodable where Wrapped: PGDecodable {
    public static func pgDecode(_ text: UnsafeBufferPointer<UInt8>?) throws(PGCellError) -> Wrapped? {
        guard let text else { return nil }
        return try Wrapped.pgDecode(text)
    }
}

extension String: PGCodable {
    // Unspecified, not `text`: a string may stand for a date, a uuid, jsonb or an enum literal,
    // and the server infers the right type from the statement.
    public static var pgTypeOID: UInt32 { PGTypeOID.unspecified }
    public var pgValue: PGBind.Value { .text(self) }
    public static func pgDecode(_ text: UnsafeBufferPointer<UInt8>?) throws(PGCellError) -> String {
        guard let text else { throw .unexpectedNull }
        return String(decoding: text, as: UTF8.self)
    }
}

extension Substring: PGEncodable {
    public static var pgTypeOID: UInt32 { PGTypeOID.unspecified }
    public var pgValue: PGBind.Value { .text(String(self)) }
}

/// Parses a decimal integer from text output, rejecting overflow.
private func parseInteger<T: FixedWidthInteger>(_ text: UnsafeBufferPointer<UInt8>?, as: T.Type) throws(PGCellError) -> T {
    guard let text else { throw .unexpectedNull }
    var index = 0
    var negative = false
    if index < text.count, text[index] == UInt8(ascii: "-") {
        negative = true
        index += 1
    }
    guard index < text.count else { throw PGCellError("is not an integer: '\(String(decoding: text, as: UTF8.self))'") }
    var value: T = 0
    while index < text.count {
        let digit = text[index] &- UInt8(ascii: "0")
        guard digit < 10 else { throw PGCellError("is not an integer: '\(String(decoding: text, as: UTF8.self))'") }
        let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
        let (next, o2) = negative
            ? shifted.subtractingReportingOverflow(T(digit))
            : shifted.addingReportingOverflow(T(digit))
        guard !o1, !o2 else { throw PGCellError("does not fit in \(T.self): '\(String(decoding: text, as: UTF8.self))'") }
        value = next
        index += 1
    }
    return value
}

/// Integers share their text format; each type only names its OID.
protocol PGInteger: FixedWidthInteger, PGCodable {}

extension PGInteger {
    public var pgValue: PGBind.Value { .text(String(self)) }
    public static func pgDecode(_ text: UnsafeBufferPointer<UInt8>?) throws(PGCellError) -> Self {
        try parseInteger(text, as: Self.self)
    }
}

extension Int: PGInteger {
    public static var pgTypeOID: UInt32 { PGTypeOID.int8 }
}

extension Int64: PGInteger {
    public static var pgTypeOID: UInt32 { PGTypeOID.int8 }
}

extension Int32: PGInteger {
    public static var pgTypeOID: UInt32 { PGTypeOID.int4 }
}

extension Int16: PGInteger {
    public static var pgTypeOID: UInt32 { PGTypeOID.int2 }
}

extension Double: PGCodable {
    public static var pgTypeOID: UInt32 { PGTypeOID.float8 }
    public var pgValue: PGBind.Value {
        // PostgreSQL spells the special values its own way (float8in accepts these).
        if isNaN { return .text("NaN") }
        if isInfinite { return .text(self < 0 ? "-Infinity" : "Infinity") }
        return .text(description)
    }
    public static func pgDecode(_ text: UnsafeBufferPointer<UInt8>?) throws(PGCellError) -> Double {
        guard let text else { throw .unexpectedNull }
        let string = String(decoding: text, as: UTF8.self)
        guard let value = Double(string) else { throw PGCellError("is not a number: '\(string)'") }
        return value
    }
}

extension Bool: PGCodable {
    public static var pgTypeOID: UInt32 { PGTypeOID.bool }
    public var pgValue: PGBind.Value { .text(self ? "t" : "f") }
    public static func pgDecode(_ text: UnsafeBufferPointer<UInt8>?) throws(PGCellError) -> Bool {
        guard let text else { throw .unexpectedNull }
        switch text.count == 1 ? text[0] : 0 {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: throw PGCellError("is not a boolean: '\(String(decoding: text, as: UTF8.self))'")
        }
    }
}

extension Decimal: PGCodable {
    public static var pgTypeOID: UInt32 { PGTypeOID.numeric }
    public var pgValue: PGBind.Value { .text(isNaN ? "NaN" : description) }
    public static func pgDecode(_ text: UnsafeBufferPointer<UInt8>?) throws(PGCellError) -> Decimal {
        guard let text else { throw .unexpectedNull }
        let string = String(decoding: text, as: UTF8.self)
        if string == "NaN" { return .nan }
        guard let value = Decimal(string: string, locale: nil) else {
            throw PGCellError("is not a decimal number: '\(string)'")
        }
        return value
    }
}

extension UUID: PGCodable {
    public static var pgTypeOID: UInt32 { PGTypeOID.uuid }
    public var pgValue: PGBind.Value { .text(uuidString.lowercased()) }
    public static func pgDecode(_ text: UnsafeBufferPointer<UInt8>?) throws(PGCellError) -> UUID {
        guard let text else { throw .unexpectedNull }
        let string = String(decoding: text, as: UTF8.self)
        guard let value = UUID(uuidString: string) else { throw PGCellError("is not a UUID: '\(string)'") }
        return value
    }
}

/// `bytea`: sent in binary format (no escaping cost), read from the hex text output `\x0a1b…`.
extension Array: PGEncodable where Element == UInt8 {
    public static var pgTypeOID: UInt32 { PGTypeOID.bytea }
    public var pgValue: PGBind.Value { .binary(self) }
}

extension Array: PGDecodable where Element == UInt8 {
    public static func pgDecode(_ text: UnsafeBufferPointer<UInt8>?) throws(PGCellError) -> [UInt8] {
        guard let text else { throw .unexpectedNull }
        guard text.count >= 2, text[0] == UInt8(ascii: "\\"), text[1] == UInt8(ascii: "x"), text.count % 2 == 0 else {
            throw PGCellError("is not bytea in hex format (set bytea_output = 'hex')")
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity((text.count - 2) / 2)
        var index = 2
        while index < text.count {
            guard let high = hexValue(text[index]), let low = hexValue(text[index + 1]) else {
                throw PGCellError("has a bad hex digit at byte \(index)")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
