#if canImport(FoundationEssentials)
import FoundationEssentials
// TimeZone(identifier:) finds zone names through FoundationInternationalization's ICU zone
// data, which is only linked when imported: without it only fixed offsets such as GMT resolve.
import FoundationInternationalization
#else
import Foundation
#endif
import Domain

/// A site's time zone from the system's time-zone database, for the shift calendar.
public struct FoundationTimeZone: TimeZoneOffsets {
    public let identifier: String
    private let zone: TimeZone

    /// Nil for a name the database does not know (`Europe/Berlin` is known; `Mars/Base` is not).
    public init?(identifier: String) {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        self.identifier = identifier
        self.zone = zone
    }

    public func offset(at instant: Double) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: instant))
    }
}
