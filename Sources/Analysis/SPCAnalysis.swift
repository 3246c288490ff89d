import Domain

/// `mes spc`: one chart computed from a CSV file, as the stable JSON of docs/cli.md.
public struct SPCAnalysis: Sendable {
    public enum Chart: String, Sendable, CaseIterable {
        case xbarR = "xbar-r"
        case xbarS = "xbar-s"
        case imr
        case p
        case np
        case c
        case u
    }

    public enum RuleSet: String, Sendable, CaseIterable {
        case nelson
        case westernElectric = "western-electric"
        case none
    }

    public var chart: Chart
    public var subgroupSize: Int?
    public var phase1: Int?
    public var excludeOutOfControl = false
    public var knownCenter: Double?
    public var knownSigma: Double?
    public var lsl: Double?
    public var usl: Double?
    public var rules: RuleSet = .nelson
    /// Run length for N2/WE4; nil picks the set's own (9 for Nelson, 8 for Western Electric).
    public var runLength: Int?

    public init(chart: Chart) { self.chart = chart }

    /// The result, ready to encode.
    public struct Result: Sendable, Equatable, Encodable {
        public struct Point: Sendable, Equatable, Encodable {
            public var index: Int
            public var value: Double
            public var ucl: Double
            public var lcl: Double
            public var signals: [String]
        }
        public struct Series: Sendable, Equatable, Encodable {
            public var name: String
            public var center: Double
            public var ucl: Double
            public var lcl: Double
            public var points: [Point]
        }
        public struct Capability: Sendable, Equatable, Encodable {
            public var cp: Double?
            public var cpk: Double
            public var pp: Double?
            public var ppk: Double
        }
        public var chart: String
        public var charts: [Series]
        public var capability: Capability?
    }

    /// Computes the chart from parsed rows.
    public func run(_ csv: NumericCSV, name: String) throws(AnalysisError) -> Result {
        do {
            return try compute(csv, name: name)
        } catch let error as SPCError {
            throw AnalysisError("\(name): \(error.message)")
        } catch let error as AnalysisError {
            throw error
        } catch {
            throw AnalysisError("\(name): \(error)")
        }
    }

    private func compute(_ csv: NumericCSV, name: String) throws -> Result {
        if let runLength, runLength != 8 && runLength != 9 { throw AnalysisError("--run-length must be 8 or 9") }
        if (knownCenter == nil) != (knownSigma == nil) && chart != .p && chart != .np && chart != .c && chart != .u {
            throw AnalysisError("--center and --sigma go together for a \(chart.rawValue) chart")
        }
        let estimation: SPCEstimation = knownCenter.map { .known(center: $0, sigma: knownSigma ?? 1) }
            ?? .phaseI(subgroups: phase1, excludeOutOfControl: excludeOutOfControl)
        let ruleList: [SPCRule] = switch rules {
        case .nelson: SPCRule.nelson
        case .westernElectric: SPCRule.westernElectric
        case .none: []
        }
        let evaluator = SPCRuleEvaluator(rules: ruleList, runLength: runLength ?? (rules == .westernElectric ? 8 : 9))
        let dispersionEvaluator = SPCRuleEvaluator(rules: ruleList.isEmpty ? [] : [rules == .westernElectric ? .we1 : .n1])

        var series: [SPCSeries]
        var capability: ProcessCapability?
        switch chart {
        case .xbarR, .xbarS:
            let subgroups = try self.subgroups(csv, name: name)
            let result = try SubgroupChart.compute(
                subgroups, dispersion: chart == .xbarR ? .range : .standardDeviation, estimation: estimation,
                rules: evaluator, dispersionRules: dispersionEvaluator)
            series = [result.means, result.dispersion]
            capability = try capabilityIfAsked(subgroups.flatMap { $0 }, sigmaWithin: result.sigmaWithin)
        case .imr:
            let values = try columns(csv, name: name, exactly: 1, what: "one value").map { $0[0] }
            let result = try IndividualsChart.compute(values, estimation: estimation, rules: evaluator, dispersionRules: dispersionEvaluator)
            series = [result.individuals, result.movingRange]
            capability = try capabilityIfAsked(values, sigmaWithin: result.sigmaWithin)
        case .p, .np:
            let rows = try columns(csv, name: name, exactly: 2, what: "defectives,sample_size")
            let (defectives, sizes) = try (counts(rows.map { $0[0] }, csv, name), counts(rows.map { $0[1] }, csv, name))
            series = [chart == .p
                ? try AttributeChart.p(defectives: defectives, sampleSizes: sizes, estimation: estimation, rules: evaluator)
                : try AttributeChart.np(defectives: defectives, sampleSizes: sizes, estimation: estimation, rules: evaluator)]
        case .c:
            let rows = try columns(csv, name: name, exactly: 1, what: "defects")
            series = [try AttributeChart.c(defects: try counts(rows.map { $0[0] }, csv, name), estimation: estimation, rules: evaluator)]
        case .u:
            let rows = try columns(csv, name: name, exactly: 2, what: "defects,units")
            series = [try AttributeChart.u(
                defects: try counts(rows.map { $0[0] }, csv, name), units: rows.map { $0[1] }, estimation: estimation, rules: evaluator)]
        }
        if capability == nil, lsl != nil || usl != nil, chart != .xbarR, chart != .xbarS, chart != .imr {
            throw AnalysisError("--lsl and --usl apply to variables charts (xbar-r, xbar-s, imr)")
        }
        return Result(
            chart: chart.rawValue,
            charts: series.map { series in
                Result.Series(
                    name: series.name, center: series.center, ucl: series.ucl, lcl: series.lcl,
                    points: series.points.map { Result.Point(index: $0.index, value: $0.value, ucl: $0.ucl, lcl: $0.lcl, signals: $0.signals.rules.map(\.rawValue)) })
            },
            capability: capability.map { Result.Capability(cp: $0.cp, cpk: $0.cpk, pp: $0.pp, ppk: $0.ppk) })
    }

    /// Subgroups from rows (one subgroup per row), or from one column cut into `subgroupSize`.
    private func subgroups(_ csv: NumericCSV, name: String) throws -> [[Double]] {
        if let size = subgroupSize {
            guard csv.rows.allSatisfy({ $0.values.count == 1 }) else {
                throw AnalysisError("\(name): --subgroup-size needs a single column of individual values")
            }
            let values = csv.rows.map { $0.values[0] }
            guard size >= 2, values.count % size == 0 else {
                throw AnalysisError("\(name): \(values.count) values do not split into subgroups of \(size)")
            }
            return stride(from: 0, to: values.count, by: size).map { Array(values[$0..<($0 + size)]) }
        }
        let width = csv.rows[0].values.count
        for row in csv.rows where row.values.count != width {
            throw AnalysisError("\(name):\(row.line): \(row.values.count) values, but the first subgroup has \(width)")
        }
        guard width >= 2 else {
            throw AnalysisError("\(name): one value per row: pass --subgroup-size, or use the imr chart")
        }
        return csv.rows.map(\.values)
    }

    private func columns(_ csv: NumericCSV, name: String, exactly count: Int, what: String) throws -> [[Double]] {
        for row in csv.rows where row.values.count != count {
            throw AnalysisError("\(name):\(row.line): expected \(what) (\(count) value\(count == 1 ? "" : "s")), found \(row.values.count)")
        }
        return csv.rows.map(\.values)
    }

    private func counts(_ values: [Double], _ csv: NumericCSV, _ name: String) throws -> [Int] {
        try values.enumerated().map { index, value in
            guard value == value.rounded(), abs(value) < 1e15 else {
                throw AnalysisError("\(name):\(csv.rows[index].line): \(value) is not a whole count")
            }
            return Int(value)
        }
    }

    private func capabilityIfAsked(_ values: [Double], sigmaWithin: Double) throws -> ProcessCapability? {
        guard lsl != nil || usl != nil else { return nil }
        return try ProcessCapability.compute(values: values, sigmaWithin: sigmaWithin, lsl: lsl, usl: usl)
    }
}
