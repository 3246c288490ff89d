#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Analysis
import ArgumentParser

/// `mes spc`: a control chart from a CSV file, for quality engineers working offline.
struct SPCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spc",
        abstract: "Compute a control chart, its rule violations and capability from a CSV file.",
        discussion: """
            CSV rows: xbar-r and xbar-s take one subgroup per row (one column per value), or a \
            single column with --subgroup-size; imr takes one value per row; p and np take \
            'defectives,sample_size'; c takes 'defects'; u takes 'defects,units'. A header row \
            is optional. Output is JSON (docs/cli.md) or the chart as SVG. Bad input is reported \
            with its file and line, and the exit status is 1.
            """
    )

    @Argument(help: "xbar-r, xbar-s, imr, p, np, c or u.")
    var chart: String

    @Argument(help: "The CSV file.")
    var file: String

    @Option(help: "Cut a single column of values into subgroups of this size (xbar-r, xbar-s).")
    var subgroupSize: Int?

    @Option(name: .customLong("phase1"), help: "Estimate the limits from the first K rows only (default: all).")
    var phase1: Int?

    @Flag(help: "Drop phase I points beyond the first limits and compute the limits once more.")
    var excludeOutOfControl = false

    @Option(help: "Known process center (with --sigma for variables charts; p, c or u for attribute charts).")
    var center: Double?

    @Option(help: "Known process sigma.")
    var sigma: Double?

    @Option(help: "Lower specification limit (capability).")
    var lsl: Double?

    @Option(help: "Upper specification limit (capability).")
    var usl: Double?

    @Option(help: "nelson, western-electric or none.")
    var rules = "nelson"

    @Option(help: "Points in a run for N2/WE4: 8 or 9 (default 9 for Nelson, 8 for Western Electric).")
    var runLength: Int?

    @Option(help: "json or svg.")
    var format = "json"

    func run() throws {
        guard let kind = SPCAnalysis.Chart(rawValue: chart) else {
            throw ValidationError("unknown chart '\(chart)': use one of \(SPCAnalysis.Chart.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let ruleSet = SPCAnalysis.RuleSet(rawValue: rules) else {
            throw ValidationError("unknown rules '\(rules)': use nelson, western-electric or none")
        }
        guard format == "json" || format == "svg" else { throw ValidationError("unknown format '\(format)': use json or svg") }
        var analysis = SPCAnalysis(chart: kind)
        analysis.subgroupSize = subgroupSize
        analysis.phase1 = phase1
        analysis.excludeOutOfControl = excludeOutOfControl
        analysis.knownCenter = center
        analysis.knownSigma = sigma
        analysis.lsl = lsl
        analysis.usl = usl
        analysis.rules = ruleSet
        analysis.runLength = runLength

        let csv = try NumericCSV(text: try readTextFile(file), name: file)
        let result = try analysis.run(csv, name: file)
        if format == "svg" {
            print(SPCChartSVG.render(result), terminator: "")
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        }
    }
}

/// The bytes of a file, or an error naming it.
func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw AnalysisError("\(path): cannot be read (missing, a folder, or no permission)")
    }
    return [UInt8](data)
}

/// The contents of a UTF-8 text file, or an error naming it.
func readTextFile(_ path: String) throws -> String {
    guard let text = String(validating: try readFile(path), as: UTF8.self) else { throw AnalysisError("\(path): is not UTF-8 text") }
    return text
}
