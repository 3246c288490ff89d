import Analysis
import TimeZones
import Domain
import Testing

struct FoundationTimeZoneTests {
    /// The shift tests use a hand-written Berlin table; the system's time-zone database must agree.
    @Test func systemDatabase_agreesWithTheBerlinTableAroundBothChanges() throws {
        let berlin = try #require(FoundationTimeZone(identifier: "Europe/Berlin"))
        for instant in [1_774_745_999.0, 1_774_746_000, 1_792_889_999, 1_792_890_000, 1_768_176_000] {
            let expected = instant >= 1_774_746_000 && instant < 1_792_890_000 ? 7200 : 3600
            #expect(berlin.offset(at: instant) == expected, "at \(instant)")
        }
        #expect(FoundationTimeZone(identifier: "Mars/Olympus") == nil)
    }
}
