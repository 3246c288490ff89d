#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain

/// `mes oee`: OEE and its loss tree from a JSON file of state intervals and part counts
/// (format in docs/cli.md).
public struct OEEAnalysis: Sendable {
    public var smallStopSeconds: Double

    public init(smallStopSeconds: Double = 120) {
        self.smallStopSeconds = smallStopSeconds
    }

    struct Input: Decodable {
        struct Window: Decodable { var start: String; var end: String }
        struct Interval: Decodable { var start: String; var end: String; var state: String; var reason: String?; var part: String? }
        struct Count: Decodable {
            var part: String
            var idealCycleSeconds: Double
            var total: Int
            var reject: Int
            enum CodingKeys: String, CodingKey {
                case part, total, reject
                case idealCycleSeconds = "ideal_cycle_seconds"
            }
        }
        var window: Window
        var intervals: [Interval]
        var counts: [Count]
    }

    /// The output, in the stable shape of docs/cli.md; losses in minutes.
    public struct Output: Sendable, Equatable, Encodable {
        public var plannedProductionSeconds: Double
        public var runSeconds: Double
        public var availability: Double
        public var performance: Double
        public var quality: Double
        public var oee: Double
        /// Minutes lost to each cause.
        public var losses: OEECalculator.Losses
        public var flags: [String]
        enum CodingKeys: String, CodingKey {
            case availability, performance, quality, oee, losses, flags
            case plannedProductionSeconds = "planned_production_seconds"
            case runSeconds = "run_seconds"
        }
    }

    public func run(json: [UInt8], name: String) throws(AnalysisError) -> Output {
        let input: Input
        do {
            input = try JSONDecoder().decode(Input.self, from: Data(json))
        } catch let error as DecodingError {
            throw AnalysisError("\(name): \(Self.describe(error))")
        } catch {
            throw AnalysisError("\(name): not valid JSON")
        }
        func instant(_ text: String, _ field: String) throws(AnalysisError) -> Double {
            guard let date = Self.parseISO8601(text) else {
                throw AnalysisError("\(name): \(field) '\(text.prefix(40))' is not an ISO 8601 date-time with a time zone")
            }
            return date.timeIntervalSince1970
        }
        var intervals: [StateInterval] = []
        for (index, interval) in input.intervals.enumerated() {
            guard let state = MachineState(rawValue: interval.state) else {
                throw AnalysisError("\(name): intervals[\(index)].state '\(interval.state)' is not one of \(MachineState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            intervals.append(StateInterval(
                start: try instant(interval.start, "intervals[\(index)].start"), end: try instant(interval.end, "intervals[\(index)].end"),
                state: state, reason: interval.reason))
        }
        let counts = input.counts.map { PartCount(part: $0.part, idealCycleSeconds: $0.idealCycleSeconds, total: $0.total, reject: $0.reject) }
        let result: OEECalculator.Result
        do {
            result = try OEECalculator(smallStopSeconds: smallStopSeconds).compute(
                windowStart: try instant(input.window.start, "window.start"), windowEnd: try instant(input.window.end, "window.end"),
                intervals: intervals, counts: counts)
        } catch let error as OEEError {
            throw AnalysisError("\(name): \(error.message)")
        } catch let error as AnalysisError {
            throw error
        } catch {
            throw AnalysisError("\(name): \(error)")
        }
        return Output(
            plannedProductionSeconds: result.plannedProductionSeconds, runSeconds: result.runSeconds,
            availability: result.availability, performance: result.performance, quality: result.quality, oee: result.oee,
            losses: result.losses.inUnits(of: 60),
            flags: result.flags)
    }

    /// `2026-11-23T06:00:00Z`, with or without fractional seconds; a zone is required.
    static func parseISO8601(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// A decoding error as a path and a reason: `counts[1].total: expected a number`.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "\(parent.isEmpty ? "" : parent + ".")\(key.stringValue) is missing"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type == String.self ? "a string" : type == Int.self ? "a whole number" : type == Double.self ? "a number" : "\(type)")"
        case .valueNotFound(_, let context):
            return "\(path(context.codingPath)) is null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context.codingPath)): malformed value"
        @unknown default:
            return "unreadable JSON"
        }
    }
}
