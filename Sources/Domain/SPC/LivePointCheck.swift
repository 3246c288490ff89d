/// The judgement of one new point on a live control chart: the limits it is read against and
/// the tests it fails, as the tablet and the wall screen need it the moment it is entered.
public struct LivePointCheck: Sendable, Equatable {
    /// The chart of one characteristic.
    public enum Chart: String, Sendable, CaseIterable {
        /// Individuals and moving range (subgroups of one).
        case imr
        case xbarR = "xbar_r"
        case xbarS = "xbar_s"
    }

    /// Where the limits come from.
    public enum Limits: Sendable, Equatable {
        /// Frozen by quality: the process center and sigma.
        case frozen(center: Double, sigma: Double)
        /// Trial limits from the characteristic's first subgroups (phase I).
        case trial([[Double]])
    }

    /// The center line and control limits of the location chart (I or X̄).
    public var center: Double
    public var ucl: Double
    public var lcl: Double
    /// The tests the newest point fails, location chart first; a test on the dispersion chart
    /// (MR, R or S) is prefixed with its name, as in `R:N1`.
    public var signals: [String]

    /// Subgroups AIAG's SPC manual (2nd ed., 2005) asks for before trial limits are computed.
    public static let trialSubgroups = 25

    /// Judges the last subgroup of `window` (the newest points, oldest first). Returns nil while
    /// trial limits lack `trialSubgroups` subgroups.
    public static func judge(_ window: [[Double]], chart: Chart, limits: Limits, rules: SPCRuleEvaluator) throws(SPCError) -> LivePointCheck? {
        guard let newest = window.last else { throw SPCError("there is no point to judge") }
        let dispersionRules = SPCRuleEvaluator(rules: [.n1])
        let (center, sigma): (Double, Double)
        switch limits {
        case .frozen(let c, let s):
            (center, sigma) = (c, s)
        case .trial(let subgroups):
            guard subgroups.count >= trialSubgroups else { return nil }
            switch chart {
            case .imr:
                let trial = try IndividualsChart.compute(subgroups.map { $0[0] }, rules: rules)
                (center, sigma) = (trial.individuals.center, trial.sigmaWithin)
            case .xbarR, .xbarS:
                let trial = try SubgroupChart.compute(subgroups, dispersion: chart == .xbarR ? .range : .standardDeviation, rules: rules)
                (center, sigma) = (trial.means.center, trial.sigmaWithin)
            }
        }
        let estimation = SPCEstimation.known(center: center, sigma: sigma)
        if window.count == 1 {
            // One point has no run and no range: only the limit tests can fire.
            let halfWidth = 3 * sigma / Double(newest.count).squareRoot()
            let mean = newest.reduce(0, +) / Double(newest.count)
            let beyond = abs(mean - center) > halfWidth
            let limitRules = rules.rules.filter { $0 == .n1 || $0 == .we1 }.map(\.rawValue)
            return LivePointCheck(center: center, ucl: center + halfWidth, lcl: center - halfWidth, signals: beyond ? limitRules : [])
        }
        let location: SPCSeries
        let dispersion: SPCSeries
        switch chart {
        case .imr:
            let computed = try IndividualsChart.compute(window.map { $0[0] }, estimation: estimation, rules: rules, dispersionRules: dispersionRules)
            (location, dispersion) = (computed.individuals, computed.movingRange)
        case .xbarR, .xbarS:
            let computed = try SubgroupChart.compute(
                window, dispersion: chart == .xbarR ? .range : .standardDeviation, estimation: estimation, rules: rules, dispersionRules: dispersionRules)
            (location, dispersion) = (computed.means, computed.dispersion)
        }
        let dispersionName = switch chart {
        case .imr: "MR"
        case .xbarR: "R"
        case .xbarS: "S"
        }
        let signals = (location.points.last?.signals.rules.map(\.rawValue) ?? [])
            + (dispersion.points.last?.signals.rules.map { "\(dispersionName):\($0.rawValue)" } ?? [])
        return LivePointCheck(center: location.center, ucl: location.ucl, lcl: location.lcl, signals: signals)
    }
}
