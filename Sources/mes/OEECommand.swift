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
            Input: {"window": {"start", "end"}, "intervals": [{"start", "end", "state", "reason"?}], \
            "counts": [{"part", "ideal_cycle_seconds", "total", "reject"}]}, times in ISO 8601 with a \
            zone; states running, idle, unplanned_stop, setup, planned_stop, offline. Output is JSON \
            with losses in minutes (docs/cli.md). Overlapping intervals, negative counts and malformed \
            files are errors with exit status 1.
            """
    )

    @Argument(help: "The JSON file.")
    var file: String

    @Option(help: "Unplanned stops and idle spells shorter than this are small stops (a performance loss).")
    var smallStopSeconds: Double = 120

    func run() throws {
        guard smallStopSeconds >= 0 else { throw ValidationError("--small-stop-seconds cannot be negative") }
        let output = try OEEAnalysis(smallStopSeconds: smallStopSeconds).run(json: try readFile(file), name: file)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(output), as: UTF8.self))
    }
}
