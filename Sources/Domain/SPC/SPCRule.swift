/// A test for special causes on a control chart.
///
/// Nelson's eight tests use his numbering (L. S. Nelson, "The Shewhart Control Chart—Tests for
/// Special Causes", Journal of Quality Technology 16(4), 1984); the Western Electric rules are
/// from the *Statistical Quality Control Handbook* (Western Electric, 1956). Zones are in
/// sigmas of the plotted statistic around the center line. A signal is reported at the point
/// that completes the pattern.
public enum SPCRule: String, Sendable, CaseIterable, Codable {
    /// One point beyond the control limits.
    case n1 = "N1"
    /// A run of points (9 by Nelson; configurable) on the same side of the center line.
    case n2 = "N2"
    /// Six points in a row steadily increasing or decreasing.
    case n3 = "N3"
    /// Fourteen points in a row alternating up and down.
    case n4 = "N4"
    /// Two out of three points in a row beyond 2 sigma, same side.
    case n5 = "N5"
    /// Four out of five points in a row beyond 1 sigma, same side.
    case n6 = "N6"
    /// Fifteen points in a row within 1 sigma, either side (stratification).
    case n7 = "N7"
    /// Eight points in a row beyond 1 sigma, either side (mixture).
    case n8 = "N8"
    /// One point beyond 3 sigma.
    case we1 = "WE1"
    /// Two out of three beyond 2 sigma, same side.
    case we2 = "WE2"
    /// Four out of five beyond 1 sigma, same side.
    case we3 = "WE3"
    /// A run of points (8 in the handbook; configurable) on the same side of the center line.
    case we4 = "WE4"

    /// Whether the rule reads zones (needs the chart's sigma), rather than only the limits.
    var isZoneRule: Bool { self != .n1 && self != .we1 }

    /// Nelson's eight tests.
    public static let nelson: [SPCRule] = [.n1, .n2, .n3, .n4, .n5, .n6, .n7, .n8]
    /// The four Western Electric rules.
    public static let westernElectric: [SPCRule] = [.we1, .we2, .we3, .we4]

    /// What the test saw, in words for the person at the chart (the run rules with their
    /// default lengths).
    public var explanation: String {
        switch self {
        case .n1, .we1: "a point beyond a control limit (3 sigma)"
        case .n2: "9 points in a row on one side of the center line: the process mean has shifted"
        case .n3: "6 points in a row steadily rising or falling: a trend (tool wear, drift)"
        case .n4: "14 points in a row alternating up and down: over-adjustment or two alternating sources"
        case .n5, .we2: "2 of 3 points in a row beyond 2 sigma on one side: an early shift"
        case .n6, .we3: "4 of 5 points in a row beyond 1 sigma on one side: a small shift"
        case .n7: "15 points in a row within 1 sigma: stratification, or limits that are too wide"
        case .n8: "8 points in a row beyond 1 sigma on either side: a mixture of two processes"
        case .we4: "8 points in a row on one side of the center line: the process mean has shifted"
        }
    }
}

/// The rules broken at one point, as a bit set: no allocation per point, so a million points
/// cost no more than a million integers.
public struct SPCSignals: OptionSet, Sendable, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public init(_ rule: SPCRule) {
        rawValue = 1 << UInt16(SPCRule.allCases.firstIndex(of: rule)!)
    }

    /// The rules, in the order of `SPCRule.allCases` (N1…N8, then WE1…WE4).
    public var rules: [SPCRule] { SPCRule.allCases.filter { contains(SPCSignals($0)) } }

    public static let n1 = SPCSignals(.n1), n2 = SPCSignals(.n2), n3 = SPCSignals(.n3), n4 = SPCSignals(.n4)
    public static let n5 = SPCSignals(.n5), n6 = SPCSignals(.n6), n7 = SPCSignals(.n7), n8 = SPCSignals(.n8)
    public static let we1 = SPCSignals(.we1), we2 = SPCSignals(.we2), we3 = SPCSignals(.we3), we4 = SPCSignals(.we4)
}
