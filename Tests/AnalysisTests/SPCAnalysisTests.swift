import Analysis
import Testing

struct NumericCSVTests {
    @Test func csv_skipsHeaderAndBlankLines_andKeepsLineNumbers() throws {
        let csv = try NumericCSV(text: "defectives, sample_size\r\n12,50\n\n \"15\" , 50\n", name: "juice.csv")
        #expect(csv.header == ["defectives", "sample_size"])
        #expect(csv.rows == [NumericCSV.Row(line: 2, values: [12, 50]), NumericCSV.Row(line: 4, values: [15, 50])])
    }

    @Test(arguments: [
        ("1\n2\nthree\n", "data.csv:3: 'three' is not a number"),
        ("1\n2,x\n", "data.csv:2: 'x' is not a number"),
        ("a\nb\n", "data.csv:2: 'b' is not a number"),
        ("header\n", "data.csv: no data rows"),
        ("", "data.csv: no data rows"),
        ("1\ninf\n", "data.csv:2: values must be finite numbers"),
    ])
    func csv_badInputNamesFileAndLine(text: String, message: String) {
        #expect(throws: AnalysisError(message)) { try NumericCSV(text: text, name: "data.csv") }
    }
}

struct SPCAnalysisTests {
    static let juiceCSV = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22, 8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6]
        .map { "\($0),50" }.joined(separator: "\n")

    @Test func pChart_fromCSV_givesTheBookLimitsAndSignals() throws {
        var analysis = SPCAnalysis(chart: .p)
        analysis.rules = .none
        let result = try analysis.run(try NumericCSV(text: Self.juiceCSV, name: "juice.csv"), name: "juice.csv")
        #expect(result.chart == "p")
        #expect(result.charts.count == 1)
        #expect(abs(result.charts[0].ucl - 0.4102) < 0.00005)
        #expect(result.charts[0].points.allSatisfy { $0.signals.isEmpty }, "no rules asked for")
        analysis.rules = .nelson
        let judged = try analysis.run(try NumericCSV(text: Self.juiceCSV, name: "juice.csv"), name: "juice.csv")
        #expect(judged.charts[0].points.filter { $0.signals.contains("N1") }.map(\.index) == [15, 23])
    }

    @Test func xbarR_fromOneColumn_withSubgroupSize_andCapability() throws {
        var analysis = SPCAnalysis(chart: .xbarR)
        analysis.subgroupSize = 4
        analysis.lsl = 4
        analysis.usl = 16
        let text = [9, 10, 11, 10, 10, 12, 10, 8, 11, 11, 9, 9, 8, 10, 12, 10, 10, 9, 11, 10].map(String.init).joined(separator: "\n")
        let result = try analysis.run(try NumericCSV(text: text, name: "bore.csv"), name: "bore.csv")
        #expect(result.charts.map(\.name) == ["xbar", "r"])
        #expect(result.charts[0].points.count == 5)
        let capability = try #require(result.capability)
        #expect(capability.cp != nil && capability.pp != nil)
        #expect(abs(capability.cpk - (capability.cp ?? 0)) < 1e-9, "centered process: Cpk = Cp")
    }

    @Test(arguments: [
        (SPCAnalysis.Chart.imr, "1,2\n3,4\n", "x.csv:1: expected one value (1 value), found 2"),
        (.xbarR, "1,2,3\n4,5\n", "x.csv:2: 2 values, but the first subgroup has 3"),
        (.xbarR, "1\n2\n3\n", "x.csv: one value per row: pass --subgroup-size, or use the imr chart"),
        (.p, "3,10\n-1,10\n", "x.csv: row 2: defectives cannot be negative (-1)"),
        (.c, "2.5\n3\n", "x.csv:1: 2.5 is not a whole count"),
        (.imr, "5\n", "x.csv: an individuals chart needs at least 2 values, got 1"),
    ])
    func badInput_isAClearError(chart: SPCAnalysis.Chart, text: String, message: String) {
        #expect(throws: AnalysisError(message)) {
            try SPCAnalysis(chart: chart).run(try NumericCSV(text: text, name: "x.csv"), name: "x.csv")
        }
    }

    @Test func specificationLimits_onAttributeCharts_areRefused() {
        var analysis = SPCAnalysis(chart: .c)
        analysis.usl = 10
        #expect(throws: AnalysisError.self) { try analysis.run(try NumericCSV(text: "1\n2\n", name: "x.csv"), name: "x.csv") }
    }
}
