/// Control-chart constants for subgroup sizes 2 to 25 (ASTM E2587; Montgomery, *Introduction
/// to Statistical Quality Control*, Appendix VI). d2, d3 and c4 are computed by
/// scripts/spc-constants.py to ten decimals; the others follow from them:
/// A2 = 3/(d2·√n), A3 = 3/(c4·√n), B3/B4 = 1 ∓ 3·√(1−c4²)/c4, D3/D4 = 1 ∓ 3·d3/d2 (floored at 0).
public enum SPCConstants {
    public static let subgroupSizes = 2...25

    /// Expected range of n standard normal values.
    public static func d2(_ n: Int) throws(SPCError) -> Double { try row(n).d2 }
    /// Standard deviation of that range.
    public static func d3(_ n: Int) throws(SPCError) -> Double { try row(n).d3 }
    /// Expected sample standard deviation of n standard normal values.
    public static func c4(_ n: Int) throws(SPCError) -> Double { try row(n).c4 }

    public static func A2(_ n: Int) throws(SPCError) -> Double { 3 / (try d2(n) * Double(n).squareRoot()) }
    public static func A3(_ n: Int) throws(SPCError) -> Double { 3 / (try c4(n) * Double(n).squareRoot()) }
    public static func B3(_ n: Int) throws(SPCError) -> Double { max(0, 1 - 3 * (try sWidth(n))) }
    public static func B4(_ n: Int) throws(SPCError) -> Double { 1 + 3 * (try sWidth(n)) }
    public static func D3(_ n: Int) throws(SPCError) -> Double { max(0, 1 - 3 * (try d3(n)) / (try d2(n))) }
    public static func D4(_ n: Int) throws(SPCError) -> Double { 1 + 3 * (try d3(n)) / (try d2(n)) }

    private static func sWidth(_ n: Int) throws(SPCError) -> Double {
        let c4 = try c4(n)
        return (1 - c4 * c4).squareRoot() / c4
    }

    private static func row(_ n: Int) throws(SPCError) -> (d2: Double, d3: Double, c4: Double) {
        guard subgroupSizes.contains(n) else {
            throw SPCError("subgroup size \(n) is outside \(subgroupSizes.lowerBound)...\(subgroupSizes.upperBound)")
        }
        return table[n - 2]
    }
}

/// Why a chart cannot be computed (too few points, a bad subgroup size, …).
public struct SPCError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
