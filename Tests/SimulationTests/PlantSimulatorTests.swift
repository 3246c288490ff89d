@testable import Collector
import Domain
import Services
import Simulation
import Testing

struct PlantSimulatorTests {
    static let start: Int64 = 1_795_420_800_000
    static let shift: Int64 = 8 * 3_600_000

    @Test func theSameSeed_givesTheSamePlant_anotherSeedAnother() {
        var first = PlantSimulator(machines: 5, seed: 42, start: Self.start)
        var second = PlantSimulator(machines: 5, seed: 42, start: Self.start)
        var other = PlantSimulator(machines: 5, seed: 43, start: Self.start)
        let a = first.advance(to: Self.start + 3_600_000)
        let repeated = a == second.advance(to: Self.start + 3_600_000)
        let different = a != other.advance(to: Self.start + 3_600_000)
        #expect(repeated && different)
        // Advancing in steps gives what one step gives.
        var stepped = PlantSimulator(machines: 5, seed: 42, start: Self.start)
        var pieces: [MachineMessage] = []
        for minute in stride(from: Int64(1), through: 60, by: 1) { pieces += stepped.advance(to: Self.start + minute * 60_000) }
        #expect(pieces.count == a.count)
        let same = pieces == a
        #expect(same)
    }

    /// Over a shift, twenty machines show everything the MES has to handle.
    @Test func aShift_hasEveryKindOfEvent_andTheGaugeTripsSPCRules() throws {
        var plant = PlantSimulator(machines: 20, seed: 7, start: Self.start)
        let messages = plant.advance(to: Self.start + Self.shift)
        #expect(messages == messages.sorted { $0.timestampMilliseconds < $1.timestampMilliseconds })
        var states = Set<MachineState>()
        var unclassifiedStops = 0
        var rejects = 0
        var alarmsRaised = 0
        var alarmsCleared = 0
        var gauge: [MachinePath: [Double]] = [:]
        for message in messages {
            switch message.body {
            case .state(let state, let reason):
                states.insert(state)
                if state == .unplannedStop && reason == nil { unclassifiedStops += 1 }
            case .count(let counter, _, _): if counter == "reject" { rejects += 1 }
            case .alarm(_, _, let active, _): if active { alarmsRaised += 1 } else { alarmsCleared += 1 }
            case .measurement(_, let value, _): gauge[message.path, default: []].append(value)
            }
        }
        #expect(states == [.running, .idle, .unplannedStop, .setup])
        #expect(unclassifiedStops > 0 && rejects > 0 && alarmsRaised > 0 && alarmsCleared > 0)
        // Counters only grow.
        var last: [String: Int64] = [:]
        for message in messages {
            if case .count(let counter, let value, _) = message.body {
                let key = "\(message.path.machine)/\(counter)"
                #expect(value > last[key, default: -1])
                last[key] = value
            }
        }
        // Drifts and shifts make Nelson's rules fire on some machine's individuals chart.
        var signalled = 0
        for values in gauge.values where values.count >= 20 {
            let chart = try IndividualsChart.compute(values, estimation: .known(center: 12.0, sigma: 0.004), rules: SPCRuleEvaluator(rules: SPCRule.nelson))
            signalled += chart.individuals.points.filter { !$0.signals.isEmpty }.count
        }
        #expect(signalled > 0)
    }

    @Test func everyMessage_survivesTheJSONDialect() throws {
        var plant = PlantSimulator(machines: 3, seed: 1, start: Self.start)
        var messages = plant.advance(to: Self.start + Self.shift)
        messages.append(MachineMessage(
            path: messages[0].path, timestampMilliseconds: Self.start, body: .state(.unplannedStop, reason: "quote \" backslash \\ tab \t ü")))
        for message in messages {
            let (topic, payload) = JSONDialect.encode(message)
            #expect(try JSONDialect.decode(topic: topic, payload: payload).get() == message)
        }
    }
}

/// The simulator's plant as Sparkplug B edge nodes, read back by the host: the same machine data.
struct SparkplugRoundTripTests {
    @Test func edgeNodesAndHost_agreeOnEveryStateCountAndAlarm() throws {
        var plant = PlantSimulator(machines: 12, seed: 3, start: PlantSimulatorTests.start)
        let original = plant.advance(to: PlantSimulatorTests.start + 4 * 3_600_000)
        var edge = SparkplugEdge(bdSeq: 7)
        var mapping = SparkplugMapping()
        mapping.measurements = ["Gauge/BoreDiameter"]
        var host = SparkplugHost(mapping: mapping)
        var received: [MachineMessage] = []
        for message in original {
            for published in edge.publish(message) {
                let output = host.handle(topic: published.topic, payload: published.payload, receivedAtMilliseconds: message.timestampMilliseconds)
                #expect(output.deadLetters.isEmpty && output.commands.isEmpty, "\(output.deadLetters.map(\.reason))")
                received += output.messages
            }
        }
        func key(_ message: MachineMessage) -> String {
            switch message.body {
            case .measurement(_, let value, _): "\(message.path.machine) \(message.timestampMilliseconds) measurement \(value)"
            default: "\(message.path.machine) \(message.timestampMilliseconds) \(message.body)"
            }
        }
        #expect(received.count == original.count)
        let differences = zip(received.map(key), original.map(key)).filter { $0.0 != $0.1 }
        #expect(differences.isEmpty, "\(differences.prefix(3))")
        #expect(received.allSatisfy { $0.path.site == "S1" && $0.path.line.hasPrefix("L") })
    }

    @Test func aRebirth_repeatsTheBirthsWithCurrentValues_fromSeqZero() throws {
        var plant = PlantSimulator(machines: 3, seed: 5, start: PlantSimulatorTests.start)
        var edge = SparkplugEdge(bdSeq: 2)
        for message in plant.advance(to: PlantSimulatorTests.start + 600_000) { _ = edge.publish(message) }
        let births = edge.rebirth(site: "S1", node: "L1", timestamp: PlantSimulatorTests.start + 600_000)
        #expect(births.map(\.topic) == ["spBv1.0/S1/NBIRTH/L1", "spBv1.0/S1/DBIRTH/L1/M001", "spBv1.0/S1/DBIRTH/L1/M002", "spBv1.0/S1/DBIRTH/L1/M003"])
        let nbirth = try SparkplugPayload.decode(births[0].payload)
        #expect(nbirth.seq == 0 && SparkplugHost.bdSeq(nbirth) == 2)
        // A host that starts now learns everything from the births.
        var host = SparkplugHost()
        var states = 0
        for birth in births {
            let output = host.handle(topic: birth.topic, payload: birth.payload, receivedAtMilliseconds: PlantSimulatorTests.start + 600_000)
            #expect(output.deadLetters.isEmpty && output.commands.isEmpty)
            states += output.messages.filter { if case .state = $0.body { true } else { false } }.count
        }
        #expect(states == 3)
        let will = try SparkplugPayload.decode(edge.death(site: "S1", node: "L1").payload)
        #expect(SparkplugHost.bdSeq(will) == 2 && will.seq == nil)
    }
}
