/// The protobuf wire format (protobuf.dev, "Encoding"), as much of it as the Sparkplug B
/// payload needs: varints, 64- and 32-bit fields, length-delimited fields, unknown fields
/// skipped. Every read is bounds-checked; malformed input is an error, never a crash.
///
/// Why hand-written rather than swift-protobuf with generated code: the Sparkplug B schema is
/// small and frozen (Tahu's `sparkplug_b.proto`), the host reads one message type, and a reader
/// of ~150 lines has no code generator, no runtime dependency, and says exactly what is wrong
/// with a bad payload, which is what the dead-letter table needs.
struct ProtobufReader {
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    struct Failure: Error, Equatable {
        var reason: String
    }

    private let bytes: [UInt8]
    private var index: Int
    private let end: Int

    init(_ bytes: [UInt8]) {
        self.init(bytes, from: 0, to: bytes.count)
    }

    private init(_ bytes: [UInt8], from start: Int, to end: Int) {
        self.bytes = bytes
        self.index = start
        self.end = end
    }

    var isAtEnd: Bool { index >= end }

    /// The next field's number and wire type.
    mutating func fieldKey() throws(Failure) -> (field: UInt64, wireType: WireType) {
        let key = try varint()
        guard let type = WireType(rawValue: UInt8(key & 7)) else {
            throw Failure(reason: "unsupported protobuf wire type \(key & 7) at byte \(index)")
        }
        let field = key >> 3
        guard field > 0 else { throw Failure(reason: "protobuf field number 0 at byte \(index)") }
        return (field, type)
    }

    mutating func varint() throws(Failure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard index < end else { throw Failure(reason: "truncated varint at byte \(index)") }
            let byte = bytes[index]
            index += 1
            guard shift < 64 else { throw Failure(reason: "varint longer than 10 bytes at byte \(index)") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func fixed64() throws(Failure) -> UInt64 {
        guard end - index >= 8 else { throw Failure(reason: "truncated 64-bit field at byte \(index)") }
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(bytes[index + offset]) << (8 * UInt64(offset)) }
        index += 8
        return value
    }

    mutating func fixed32() throws(Failure) -> UInt32 {
        guard end - index >= 4 else { throw Failure(reason: "truncated 32-bit field at byte \(index)") }
        var value: UInt32 = 0
        for offset in 0..<4 { value |= UInt32(bytes[index + offset]) << (8 * UInt32(offset)) }
        index += 4
        return value
    }

    /// A length-delimited field's bytes.
    mutating func lengthDelimited() throws(Failure) -> [UInt8] {
        let range = try lengthDelimitedRange()
        return Array(bytes[range])
    }

    /// A nested message, read without copying.
    mutating func message() throws(Failure) -> ProtobufReader {
        let range = try lengthDelimitedRange()
        return ProtobufReader(bytes, from: range.lowerBound, to: range.upperBound)
    }

    mutating func string() throws(Failure) -> String {
        let range = try lengthDelimitedRange()
        guard let text = String(validating: bytes[range], as: UTF8.self) else {
            throw Failure(reason: "a string field is not valid UTF-8 at byte \(range.lowerBound)")
        }
        return text
    }

    private mutating func lengthDelimitedRange() throws(Failure) -> Range<Int> {
        let length = try varint()
        guard length <= UInt64(end - index) else { throw Failure(reason: "length \(length) runs past the end at byte \(index)") }
        let range = index..<(index + Int(length))
        index = range.upperBound
        return range
    }

    mutating func skip(_ type: WireType) throws(Failure) {
        switch type {
        case .varint: _ = try varint()
        case .fixed64: _ = try fixed64()
        case .fixed32: _ = try fixed32()
        case .lengthDelimited: _ = try lengthDelimitedRange()
        }
    }
}

/// Writes protobuf messages: the host's rebirth NCMD, and the edge node's payloads that
/// `mes simulate --sparkplug` publishes.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func field(_ number: UInt64, varint value: UInt64) {
        varint(number << 3)
        varint(value)
    }

    mutating func field(_ number: UInt64, fixed32 value: UInt32) {
        varint(number << 3 | 5)
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func field(_ number: UInt64, fixed64 value: UInt64) {
        varint(number << 3 | 1)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func field(_ number: UInt64, bytes value: [UInt8]) {
        varint(number << 3 | 2)
        varint(UInt64(value.count))
        bytes += value
    }
}
