/// A Sparkplug B payload (`org.eclipse.tahu.protobuf.Payload`, Sparkplug 3.0 chapter 6).
public struct SparkplugPayload: Sendable, Equatable {
    /// Send time, milliseconds since 1970 (UTC).
    public var timestamp: UInt64?
    /// The node's message sequence number, 0–255; absent on NDEATH, NCMD and STATE.
    public var seq: UInt64?
    public var metrics: [SparkplugMetric]

    public init(timestamp: UInt64?, seq: UInt64?, metrics: [SparkplugMetric]) {
        self.timestamp = timestamp
        self.seq = seq
        self.metrics = metrics
    }

    /// Decodes a payload, or says where it is malformed.
    public static func decode(_ bytes: [UInt8]) throws(DeadLetterReason) -> SparkplugPayload {
        var reader = ProtobufReader(bytes)
        var payload = SparkplugPayload(timestamp: nil, seq: nil, metrics: [])
        do {
            while !reader.isAtEnd {
                let (field, type) = try reader.fieldKey()
                switch (field, type) {
                case (1, .varint): payload.timestamp = try reader.varint()
                case (2, .lengthDelimited):
                    var metric = try reader.message()
                    payload.metrics.append(try SparkplugMetric.decode(&metric))
                case (3, .varint): payload.seq = try reader.varint()
                default: try reader.skip(type)
                }
            }
        } catch {
            throw DeadLetterReason("not a Sparkplug B payload: \(error.reason)")
        }
        return payload
    }

    /// The payload's bytes.
    public func encoded() -> [UInt8] {
        var payload = ProtobufWriter()
        if let timestamp { payload.field(1, varint: timestamp) }
        for metric in metrics { payload.field(2, bytes: metric.encoded()) }
        if let seq { payload.field(3, varint: seq) }
        return payload.bytes
    }

    /// The host's rebirth request, sent as NCMD: a timestamp, no seq, and the one metric
    /// `Node Control/Rebirth` = true (Boolean).
    public static func rebirthRequest(timestamp: UInt64) -> [UInt8] {
        var metric = ProtobufWriter()
        metric.field(1, bytes: Array("Node Control/Rebirth".utf8))
        metric.field(3, varint: timestamp)
        metric.field(4, varint: SparkplugMetric.DataType.boolean)
        metric.field(14, varint: 1)
        var payload = ProtobufWriter()
        payload.field(1, varint: timestamp)
        payload.field(2, bytes: metric.bytes)
        return payload.bytes
    }

    /// The primary host's STATE payload (Sparkplug 3.0): `{"online":true,"timestamp":T}`.
    public static func state(online: Bool, timestamp: UInt64) -> [UInt8] {
        Array(#"{"online":\#(online),"timestamp":\#(timestamp)}"#.utf8)
    }
}

/// One metric of a payload, as sent: a DATA message names it by alias and omits its type,
/// which the birth certificate supplies.
public struct SparkplugMetric: Sendable, Equatable {
    public var name: String?
    public var alias: UInt64?
    /// Acquisition time, milliseconds since 1970.
    public var timestamp: UInt64?
    public var datatype: UInt32?
    public var isHistorical = false
    public var isTransient = false
    public var isNull = false
    public var raw: Raw?

    /// The value field as it arrived; its meaning depends on the datatype.
    public enum Raw: Sendable, Equatable {
        case int(UInt32), long(UInt64), float(Float), double(Double), boolean(Bool), string(String), bytes([UInt8])
        /// DataSet, Template or an extension: not read.
        case unsupported(field: UInt64)
    }

    /// Sparkplug's data types (Sparkplug 3.0 section 6.4.16).
    public enum DataType {
        public static let int8: UInt64 = 1, int16: UInt64 = 2, int32: UInt64 = 3, int64: UInt64 = 4
        public static let uint8: UInt64 = 5, uint16: UInt64 = 6, uint32: UInt64 = 7, uint64: UInt64 = 8
        public static let float: UInt64 = 9, double: UInt64 = 10, boolean: UInt64 = 11, string: UInt64 = 12
        public static let dateTime: UInt64 = 13, text: UInt64 = 14, uuid: UInt64 = 15, bytes: UInt64 = 17, file: UInt64 = 18
    }

    public init(name: String? = nil, alias: UInt64? = nil, timestamp: UInt64? = nil, datatype: UInt32? = nil, isNull: Bool = false, raw: Raw? = nil) {
        self.name = name
        self.alias = alias
        self.timestamp = timestamp
        self.datatype = datatype
        self.isNull = isNull
        self.raw = raw
    }

    func encoded() -> [UInt8] {
        var metric = ProtobufWriter()
        if let name { metric.field(1, bytes: Array(name.utf8)) }
        if let alias { metric.field(2, varint: alias) }
        if let timestamp { metric.field(3, varint: timestamp) }
        if let datatype { metric.field(4, varint: UInt64(datatype)) }
        if isNull { metric.field(7, varint: 1) }
        switch raw {
        case .int(let value): metric.field(10, varint: UInt64(value))
        case .long(let value): metric.field(11, varint: value)
        case .float(let value): metric.field(12, fixed32: value.bitPattern)
        case .double(let value): metric.field(13, fixed64: value.bitPattern)
        case .boolean(let value): metric.field(14, varint: value ? 1 : 0)
        case .string(let value): metric.field(15, bytes: Array(value.utf8))
        case .bytes(let value): metric.field(16, bytes: value)
        case .unsupported, nil: break
        }
        return metric.bytes
    }

    static func decode(_ reader: inout ProtobufReader) throws(ProtobufReader.Failure) -> SparkplugMetric {
        var metric = SparkplugMetric()
        while !reader.isAtEnd {
            let (field, type) = try reader.fieldKey()
            switch (field, type) {
            case (1, .lengthDelimited): metric.name = try reader.string()
            case (2, .varint): metric.alias = try reader.varint()
            case (3, .varint): metric.timestamp = try reader.varint()
            case (4, .varint): metric.datatype = UInt32(truncatingIfNeeded: try reader.varint())
            case (5, .varint): metric.isHistorical = try reader.varint() != 0
            case (6, .varint): metric.isTransient = try reader.varint() != 0
            case (7, .varint): metric.isNull = try reader.varint() != 0
            case (10, .varint): metric.raw = .int(UInt32(truncatingIfNeeded: try reader.varint()))
            case (11, .varint): metric.raw = .long(try reader.varint())
            case (12, .fixed32): metric.raw = .float(Float(bitPattern: try reader.fixed32()))
            case (13, .fixed64): metric.raw = .double(Double(bitPattern: try reader.fixed64()))
            case (14, .varint): metric.raw = .boolean(try reader.varint() != 0)
            case (15, .lengthDelimited): metric.raw = .string(try reader.string())
            case (16, .lengthDelimited): metric.raw = .bytes(try reader.lengthDelimited())
            case (17...19, .lengthDelimited):
                try reader.skip(type)
                metric.raw = .unsupported(field: field)
            default: try reader.skip(type)
            }
        }
        return metric
    }

    /// The value read with `datatype` (the metric's own, else the birth's): signed integers
    /// masked to their width and sign-extended (both encoders in use agree on that), UInt32 from
    /// either integer field. Nil when null, absent, or of a type the host does not read.
    public func value(datatype birthType: UInt32?) -> SparkplugValue? {
        guard !isNull, let raw, let type = datatype ?? birthType else { return nil }
        let integer: UInt64? = switch raw {
        case .int(let value): UInt64(value)
        case .long(let value): value
        default: nil
        }
        func signed(bits: UInt64) -> SparkplugValue? {
            guard let integer else { return nil }
            let masked = bits == 64 ? integer : integer & ((1 << bits) - 1)
            let shift = 64 - bits
            return .int(Int64(bitPattern: masked << shift) >> shift)
        }
        switch UInt64(type) {
        case DataType.int8: return signed(bits: 8)
        case DataType.int16: return signed(bits: 16)
        case DataType.int32: return signed(bits: 32)
        case DataType.int64: return signed(bits: 64)
        case DataType.uint8, DataType.uint16, DataType.uint32, DataType.uint64: return integer.map(SparkplugValue.unsigned)
        case DataType.dateTime: return integer.map(SparkplugValue.dateTime)
        case DataType.float: if case .float(let value) = raw { return .double(Double(value)) }
        case DataType.double: if case .double(let value) = raw { return .double(value) }
        case DataType.boolean: if case .boolean(let value) = raw { return .boolean(value) }
        case DataType.string, DataType.text, DataType.uuid: if case .string(let value) = raw { return .string(value) }
        case DataType.bytes, DataType.file: if case .bytes(let value) = raw { return .bytes(value) }
        default: return .unsupported(type)
        }
        return nil
    }
}

/// A metric's value, typed.
public enum SparkplugValue: Sendable, Equatable {
    case int(Int64)
    case unsigned(UInt64)
    case double(Double)
    case boolean(Bool)
    case string(String)
    case dateTime(UInt64)
    case bytes([UInt8])
    case unsupported(UInt32)

    /// The value as a number, for counters and measurements.
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .unsigned(let value): Double(value)
        case .double(let value): value
        case .boolean(let value): value ? 1 : 0
        default: nil
        }
    }
}
