#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Analysis
import ArgumentParser

/// `mes oee`: OEE and its loss tree from a JSON file.
struct OEECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oee",
        abstract: "Compute OEE (availability, performance, quality) and the loss tree from a JSON file.",
        discussion: """
            Input: {"window": {"start", "end"}, "intervals": [{"start", "end", "state", "reason"?, \
            "part"?, "operator"?, "work_order"?}], "counts": [{"part", "ideal_cycle_seconds", "total", \
            "reject", "time"?} or {"part", "ideal_cycle_seconds", "readings": [{"time", "total", \
            "reject"?}]}], "calendar"?: {"time_zone", "shifts": [{"name", "start", "end", "weekdays"?, \
            "breaks"?}]}}; several machines go in "machines": [{"machine", "line"?, "intervals", \
            "counts"}]. Times are ISO 8601 with a zone; states running, idle, unplanned_stop, setup, \
            planned_stop, offline. Output is JSON with losses in minutes, and a "rollups" list with \
            --by (docs/cli.md). Overlapping intervals, negative counts and malformed files are errors \
            with exit status 1.
            """
    )

    @Argument(help: "The JSON file.")
    var file: String

    @Option(help: "Unplanned stops and idle spells shorter than this are small stops (a performance loss).")
    var smallStopSeconds: Double = 120

    @Option(help: ArgumentHelp(
        "Also report OEE per group, comma-separated: \(OEEAnalysis.groupNames.joined(separator: ", ")).",
        valueName: "groups"))
    var by: String?

    func run() throws {
        guard smallStopSeconds >= 0 else { throw ValidationError("--small-stop-seconds cannot be negative") }
        let analysis: OEEAnalysis
        do {
            analysis = try OEEAnalysis(smallStopSeconds: smallStopSeconds, groups: by ?? "")
        } catch {
            throw ValidationError("--by: \(error.message)")
        }
        let output = try analysis.run(json: try readFile(file), name: file)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(output), as: UTF8.self))
    }
}
