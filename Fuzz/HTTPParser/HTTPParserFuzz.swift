import FuzzSupport
import HTTP

// libFuzzer target for the request parser, the chunked decoder and the request/body decoders.
// Built by scripts/fuzz.sh http-fuzz with -sanitize=fuzzer,address -D FUZZING (FuzzDriver hands
// control to libFuzzer); in a normal build the same binary replays the files given.

#if FUZZING
/// The entry libFuzzer calls with each input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    exercise(UnsafeBufferPointer(start: data, count: size))
    return 0
}

@main
struct Fuzz {
    static func main() { FuzzDriver.run(fuzzHTTPRequest) }
}
#endif

func exercise(_ bytes: UnsafeBufferPointer<UInt8>) {
    var limits = HTTPLimits()
    limits.maxRequestLineBytes = 512
    limits.maxHeaderBytes = 2048
    limits.maxHeaderFields = 32
    limits.maxBodyBytes = 4096
    limits.maxUploadBytes = 4096
    guard case .complete(let head, let consumed) = HTTPRequestParser.parseHead(bytes, limits: limits) else { return }
    precondition(consumed > 0 && consumed <= bytes.count, "consumed \(consumed) of \(bytes.count)")
    var body: [UInt8] = []
    switch HTTPRequestParser.framing(of: head, limits: limits) {
    case .success(.chunked):
        var decoder = ChunkedDecoder(maxBodyBytes: limits.maxBodyBytes)
        let used = try? decoder.decode(UnsafeBufferPointer(rebasing: bytes[consumed...]), into: &body)
        precondition((used ?? 0) <= bytes.count - consumed)
        precondition(body.count <= limits.maxBodyBytes)
    case .success(.length(let length)):
        body = Array(bytes[consumed..<min(bytes.count, consumed + length)])
    case .success(.none), .failure:
        break
    }
    guard let request = try? HTTPRequest(head: head, body: body) else { return }
    _ = try? request.query()
    _ = request.cookies
    _ = try? request.formParameters()
    _ = try? request.multipartParts()
    _ = request.acceptsGzip
}

#if !FUZZING
/// Replay mode: `http-fuzz FILE...` runs each file through the same checks.
@main
struct Replay {
    static func main() { FuzzDriver.replay("http-fuzz") { bytes in bytes.withUnsafeBufferPointer { exercise($0) } } }
}
#endif
