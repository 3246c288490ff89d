@testable import Postgres
import Testing

struct PGTimestampTests {
    static let micros: Int64 = 1_000_000

    static let parsed: [(String, Int64)] = [
        ("1970-01-01 00:00:00+00", Int64(0)),
        ("2026-11-23 07:05:09.000123+00", Int64(1_795_417_509) * micros + 123),
        ("2024-02-29 23:59:59.5+00", Int64(1_709_251_199) * micros + 500_000),
        ("1969-12-31 23:59:59.999999+00", Int64(-1)),
        ("2026-03-29 03:30:00+02", Int64(1_774_747_800) * micros),
        ("2026-03-29 00:00:00-03:30", Int64(1_774_755_000) * micros),
        ("1900-01-01 00:00:00+00:09:21", Int64(-2_208_989_361) * micros),
        ("2000-01-01 00:00:00", Int64(946_684_800) * micros),
    ]

    @Test(arguments: parsed)
    func timestamp_parsesPostgresISOOutput(text: String, expected: Int64) {
        let parsed = Array(text.utf8).withUnsafeBufferPointer { PGTimestamp.parse($0) }
        #expect(parsed == expected)
    }

    @Test(arguments: [
        "", "2026-11-23", "2026-13-01 00:00:00+00", "2026-11-23 24:00:00+00", "2026-11-23T00:00:00Z",
        "2026-11-23 00:00:00.+00", "2026-11-23 00:00:00+0", "2026-11-23 00:00:00 BC", "infinity",
    ])
    func timestamp_rejectsWhatItCannotRead(text: String) {
        #expect(Array(text.utf8).withUnsafeBufferPointer { PGTimestamp.parse($0) } == nil)
    }

    static let roundTrip: [Int64] = [0, -1, 1, 951_782_400 * micros, -2_208_988_800 * micros + 7, 253_402_300_799 * micros]

    @Test(arguments: roundTrip)
    func timestamp_formatThenParseIsIdentity(value: Int64) {
        let text = PGTimestamp.format(microsecondsSince1970: value)
        #expect(Array(text.utf8).withUnsafeBufferPointer { PGTimestamp.parse($0) } == value, "\(text)")
    }

    @Test func timestamp_formatsLikePostgres() {
        #expect(PGTimestamp.format(microsecondsSince1970: 0) == "1970-01-01 00:00:00+00")
        #expect(PGTimestamp.format(microsecondsSince1970: -1) == "1969-12-31 23:59:59.999999+00")
        #expect(PGTimestamp.format(microsecondsSince1970: 1_709_251_199 * Self.micros + 500_000) == "2024-02-29 23:59:59.500000+00")
    }
}
