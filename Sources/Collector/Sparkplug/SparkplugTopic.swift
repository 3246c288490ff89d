/// A Sparkplug B topic (Sparkplug 3.0 chapter 4): `spBv1.0/<group>/<type>/<edge node>[/<device>]`,
/// or the host's `spBv1.0/STATE/<host id>`.
public enum SparkplugTopic: Sendable, Equatable {
    public enum MessageType: String, Sendable, CaseIterable {
        case nbirth = "NBIRTH", ndeath = "NDEATH", ndata = "NDATA", ncmd = "NCMD"
        case dbirth = "DBIRTH", ddeath = "DDEATH", ddata = "DDATA", dcmd = "DCMD"

        var isDevice: Bool { rawValue.hasPrefix("D") }
    }

    case edge(group: String, type: MessageType, node: String, device: String?)
    case state(host: String)

    public static let namespace = "spBv1.0"
    /// What the host subscribes to.
    public static let filter = "spBv1.0/#"

    public static func parse(_ topic: String) throws(DeadLetterReason) -> SparkplugTopic {
        let levels = topic.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard levels.first == namespace else { throw DeadLetterReason("topic does not start with \(namespace)/") }
        guard levels.count >= 3, levels.dropFirst().allSatisfy({ !$0.isEmpty }) else {
            throw DeadLetterReason("topic has an empty or missing level")
        }
        if levels[1] == "STATE" {
            guard levels.count == 3 else { throw DeadLetterReason("a STATE topic is spBv1.0/STATE/<host id>") }
            return .state(host: levels[2])
        }
        guard levels.count == 4 || levels.count == 5 else {
            throw DeadLetterReason("topic is not spBv1.0/<group>/<type>/<edge node>[/<device>]")
        }
        guard let type = MessageType(rawValue: levels[2]) else {
            throw DeadLetterReason("message type '\(levels[2].prefix(20))' is not one of \(MessageType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard type.isDevice == (levels.count == 5) else {
            throw DeadLetterReason(type.isDevice ? "\(type.rawValue) needs a device id" : "\(type.rawValue) takes no device id")
        }
        return .edge(group: levels[1], type: type, node: levels[3], device: levels.count == 5 ? levels[4] : nil)
    }
}
