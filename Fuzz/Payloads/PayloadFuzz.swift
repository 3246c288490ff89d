import Collector
import Domain
import FuzzSupport

// libFuzzer target for what machines send: the Sparkplug B protobuf decoder and the plain JSON
// dialect's decoder (its flat-object fast path and Foundation's fallback) for every message
// kind. The first byte picks the decoder and the kind (even: Sparkplug; odd: JSON, kind
// byte / 2), the rest is the payload. Built by scripts/fuzz.sh payload-fuzz with
// -sanitize=fuzzer,address -D FUZZING; in a normal build it replays the files given.

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPayload(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    exercise(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@main
struct Fuzz {
    static func main() { FuzzDriver.run(fuzzPayload) }
}
#endif

let kinds = ["state", "count", "measurement", "alarm", "other"]

func exercise(_ input: [UInt8]) {
    guard let selector = input.first else { return }
    let payload = Array(input.dropFirst())
    switch selector % 2 {
    case 0:
        // Whatever it decodes to must survive reading every metric's value.
        if let decoded = try? SparkplugPayload.decode(payload) {
            for metric in decoded.metrics { _ = metric.value(datatype: nil) }
        }
    default:
        let kind = kinds[Int(selector / 2) % kinds.count]
        switch JSONDialect.decode(topic: "mes/S1/A1/L1/M1/\(kind)", payload: payload) {
        case .success(let message): precondition(message.path.machine == "M1")
        case .failure(let reason): precondition(!reason.description.isEmpty)
        }
    }
}

#if !FUZZING
/// Replay mode: `payload-fuzz FILE...` runs each file through the same checks.
@main
struct Replay {
    static func main() { FuzzDriver.replay("payload-fuzz") { bytes in exercise(bytes) } }
}
#endif
