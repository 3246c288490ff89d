import HTTP

import Glibc

// libFuzzer target for the request parser, the chunked decoder and the request/body decoders.
// Built by scripts/fuzz-http.sh with -sanitize=fuzzer,address -D FUZZING, where main hands
// control to libFuzzer's driver (SwiftPM renames an executable's main, so libFuzzer's own main
// cannot be used). In a normal build the same binary replays the files given as arguments.

#if FUZZING
/// The entry libFuzzer calls with each input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    exercise(UnsafeBufferPointer(start: data, count: size))
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
) -> Int32

@main
struct Fuzz {
    static func main() {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, fuzzHTTPRequest))
    }
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
    static func main() {
        for path in CommandLine.arguments.dropFirst() {
            guard let file = fopen(path, "rb") else {
                print("http-fuzz: cannot open \(path)")
                exit(1)
            }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = fread(&chunk, 1, chunk.count, file)
                if count <= 0 { break }
                bytes += chunk[0..<count]
            }
            fclose(file)
            bytes.withUnsafeBufferPointer { exercise($0) }
        }
        print("http-fuzz: replayed \(CommandLine.arguments.count - 1) inputs")
    }
}
#endif
