/// One bound parameter of a statement, ready for `PQexecParams`.
public struct PGBind: Sendable, Equatable {
    /// The value as sent: SQL NULL, PostgreSQL text input, or binary input (used for `bytea`).
    public enum Value: Sendable, Equatable {
        case null
        case text(String)
        case binary([UInt8])
    }

    /// The parameter's type OID, or 0 to let the server infer it from context.
    public var typeOID: UInt32
    public var value: Value

    public init(typeOID: UInt32, value: Value) {
        self.typeOID = typeOID
        self.value = value
    }
}

/// Well-known type OIDs from PostgreSQL's `pg_type.dat`.
public enum PGTypeOID {
    public static let unspecified: UInt32 = 0
    public static let bool: UInt32 = 16
    public static let bytea: UInt32 = 17
    public static let int8: UInt32 = 20
    public static let int2: UInt32 = 21
    public static let int4: UInt32 = 23
    public static let text: UInt32 = 25
    public static let float4: UInt32 = 700
    public static let float8: UInt32 = 701
    public static let timestamptz: UInt32 = 1184
    public static let numeric: UInt32 = 1700
    public static let uuid: UInt32 = 2950
    public static let jsonb: UInt32 = 3802
}

/// A Swift value that can be bound as a statement parameter.
public protocol PGEncodable: Sendable {
    /// The type OID the value is sent as; `PGTypeOID.unspecified` lets the server infer it.
    static var pgTypeOID: UInt32 { get }
    /// The value in PostgreSQL's input format.
    var pgValue: PGBind.Value { get }
}

extension PGEncodable {
    /// This value as a bind parameter.
    public var pgBind: PGBind { PGBind(typeOID: Self.pgTypeOID, value: pgValue) }
}

/// A Swift value that can be read from one result cell (PostgreSQL's text output format).
public protocol PGDecodable: Sendable {
    /// Makes a value from the cell's text bytes; `nil` is SQL NULL.
    static func pgDecode(_ text: UnsafeBufferPointer<UInt8>?) throws(PGCellError) -> Self
}

/// Why one cell could not be decoded; `PGDecodingError` adds the column and row.
public struct PGCellError: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }

    static let unexpectedNull = PGCellError("is NULL")
}

/// The type a value is both sent and read as.
public typealias PGCodable = PGEncodable & PGDecodable
