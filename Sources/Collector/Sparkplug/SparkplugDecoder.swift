#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Services
import Workers

/// The Sparkplug host's state behind a lock, as a collector decoder: MQTT messages in, machine
/// messages and dead letters out, and rebirth requests handed to `publish`.
public final class SparkplugDecoder: Sendable {
    private let host: Locked<SparkplugHost>
    private let publish: Locked<(@Sendable (_ topic: String, _ payload: [UInt8]) -> Void)?>

    /// - Parameter reorderTimeoutMilliseconds: how long a gap in an edge node's seq may wait
    ///   for the missing message before a rebirth is asked (0: ask at once).
    public init(mapping: SparkplugMapping = SparkplugMapping(), reorderTimeoutMilliseconds: Int64 = 2_000) {
        host = Locked(SparkplugHost(mapping: mapping, reorderTimeoutMilliseconds: reorderTimeoutMilliseconds))
        publish = Locked(nil)
    }

    /// Where rebirth requests go (the host's MQTT client, at QoS 0 as the spec says).
    public func setPublisher(_ publisher: @escaping @Sendable (_ topic: String, _ payload: [UInt8]) -> Void) {
        publish.withLock { $0 = publisher }
    }

    public func decode(topic: String, payload: [UInt8], receivedAt: Date) -> (messages: [MachineMessage], deadLetters: [DeadLetter]) {
        deliver(host.withLock { $0.handle(topic: topic, payload: payload, receivedAtMilliseconds: Self.milliseconds(receivedAt)) })
    }

    /// Closes the reorder window's gaps that have timed out (every gap with `all`, at
    /// shutdown), and returns the held messages they release. The collector calls it on its
    /// writer thread's every turn (`MachineDataCollector`'s `tick`).
    public func expire(at now: Date, all: Bool = false) -> (messages: [MachineMessage], deadLetters: [DeadLetter]) {
        deliver(host.withLock { $0.expire(atMilliseconds: Self.milliseconds(now), all: all) })
    }

    private func deliver(_ output: SparkplugHost.Output) -> (messages: [MachineMessage], deadLetters: [DeadLetter]) {
        if !output.commands.isEmpty, let send = publish.withLock({ $0 }) {
            for command in output.commands { send(command.topic, command.payload) }
        }
        return (output.messages, output.deadLetters)
    }

    private static func milliseconds(_ date: Date) -> Int64 { Int64(date.timeIntervalSince1970 * 1000) }

    /// Reads a mapping file (docs/mqtt.md), naming the file in any error.
    public static func mapping(file path: String) throws(CollectorError) -> SparkplugMapping {
        guard let data = FileManager.default.contents(atPath: path) else { throw CollectorError("\(path): cannot be read") }
        do {
            return try JSONDecoder().decode(SparkplugMapping.self, from: data)
        } catch {
            throw CollectorError("\(path): not a Sparkplug mapping: \(error)")
        }
    }
}
