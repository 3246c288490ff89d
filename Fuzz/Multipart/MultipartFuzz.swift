import FuzzSupport
import HTTP

// libFuzzer target for the multipart/form-data parser on its own (the HTTP target reaches it
// only through whole, well-framed requests). The input's first line is the Content-Type value,
// the rest the body. Besides not crashing, whatever parses must survive a round trip: the
// parts written out again with the same boundary parse to the same parts. Built by
// scripts/fuzz.sh multipart-fuzz with -sanitize=fuzzer,address -D FUZZING; in a normal build
// it replays the files given.

#if FUZZING
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    exercise(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@main
struct Fuzz {
    static func main() { FuzzDriver.run(fuzzMultipart) }
}
#endif

let limits = MultipartLimits(maxParts: 8, maxPartHeaderBytes: 256, maxTotalBytes: 8192)

func exercise(_ input: [UInt8]) {
    let newline = input.firstIndex(of: UInt8(ascii: "\n")) ?? input.endIndex
    let contentType = String(decoding: input[..<newline], as: UTF8.self)
    let body = newline < input.endIndex ? Array(input[(newline + 1)...]) : []
    guard let boundary = Multipart.boundary(fromContentType: contentType) else { return }
    precondition((1...70).contains(boundary.utf8.count), "boundary of \(boundary.utf8.count) bytes accepted")
    guard let parts = try? Multipart.parse(body: body, boundary: boundary, limits: limits) else { return }
    precondition(parts.count <= limits.maxParts, "\(parts.count) parts")
    precondition(parts.reduce(0) { $0 + $1.body.count } <= body.count, "the parts hold more bytes than the body")
    let again = try? Multipart.parse(body: encode(parts, boundary: boundary), boundary: boundary, limits: MultipartLimits(maxParts: 8, maxPartHeaderBytes: 4096, maxTotalBytes: 1 << 20))
    precondition(again == parts, "the parts written out again parse differently")
}

/// The parts as a client would send them: each header as `name: value`, CRLF line ends.
func encode(_ parts: [MultipartPart], boundary: String) -> [UInt8] {
    var out: [UInt8] = []
    for part in parts {
        out += Array("--\(boundary)\r\n".utf8)
        for header in part.headers { out += Array("\(header.name): \(header.value)\r\n".utf8) }
        out += Array("\r\n".utf8) + part.body + Array("\r\n".utf8)
    }
    out += Array("--\(boundary)--\r\n".utf8)
    return out
}

#if !FUZZING
/// Replay mode: `multipart-fuzz FILE...` runs each file through the same checks.
@main
struct Replay {
    static func main() { FuzzDriver.replay("multipart-fuzz") { bytes in exercise(bytes) } }
}
#endif
