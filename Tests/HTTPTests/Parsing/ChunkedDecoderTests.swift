@testable import HTTP
import Testing

struct ChunkedDecoderTests {
    /// Feeds `text` in pieces of `step` bytes; returns the body, or the error.
    private func decode(_ text: String, step: Int = Int.max, max: Int = 1 << 20) -> Result<[UInt8], HTTPParseError> {
        var decoder = ChunkedDecoder(maxBodyBytes: max)
        var body: [UInt8] = []
        let bytes = Array(text.utf8)
        var offset = 0
        do {
            while offset < bytes.count && !decoder.isComplete {
                let end = Swift.min(bytes.count, offset + step)
                offset += try Array(bytes[offset..<end]).withUnsafeBufferPointer { buffer throws(HTTPParseError) in
                    try decoder.decode(buffer, into: &body)
                }
            }
        } catch {
            return .failure(error)
        }
        return decoder.isComplete ? .success(body) : .failure(HTTPParseError(.badRequest, "incomplete"))
    }

    static let valid = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"

    @Test(arguments: [1, 2, 3, 7, 1000])
    func chunked_decodesWhateverTheReadSizes(step: Int) throws {
        #expect(try decode(Self.valid, step: step).get() == Array("hello, world".utf8))
    }

    @Test func chunked_everyProperPrefixIsIncomplete() {
        let bytes = Array(Self.valid.utf8)
        for length in 0..<bytes.count {
            var decoder = ChunkedDecoder(maxBodyBytes: 1 << 20)
            var body: [UInt8] = []
            let consumed = try? Array(bytes[0..<length]).withUnsafeBufferPointer { buffer throws(HTTPParseError) in
                try decoder.decode(buffer, into: &body)
            }
            #expect(consumed == length, "prefix \(length) should be consumed without error")
            #expect(!decoder.isComplete, "prefix \(length)")
        }
    }

    @Test func chunked_leavesBytesAfterTheBodyUnconsumed() throws {
        var decoder = ChunkedDecoder(maxBodyBytes: 100)
        var body: [UInt8] = []
        let bytes = Array("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1".utf8)
        let consumed = try bytes.withUnsafeBufferPointer { buffer throws(HTTPParseError) in try decoder.decode(buffer, into: &body) }
        #expect(consumed == 13)
        #expect(body == Array("abc".utf8))
    }

    static let refusals: [(String, String, Int)] = [
        ("not hex", "zz\r\nab\r\n0\r\n\r\n", 400),
        ("data longer than size", "2\r\nabc\r\n0\r\n\r\n", 400),
        ("missing size", "\r\nab\r\n0\r\n\r\n", 400),
        ("size overflow", "fffffffffffffffff\r\n", 413),
        ("over the body limit", "400\r\n", 413),
        ("control in extension", "3;\u{1}\r\nabc\r\n0\r\n\r\n", 400),
    ]

    @Test(arguments: refusals)
    func chunked_refusesBadChunks(name: String, text: String, expected: Int) {
        guard case .failure(let error) = decode(text, max: 1000) else { Issue.record("\(name) accepted"); return }
        #expect(error.status.code == expected, "\(name): \(error)")
    }

    @Test func chunked_boundsTrailers() {
        let trailers = "0\r\n" + String(repeating: "X-T: 0123456789\r\n", count: 1000) + "\r\n"
        guard case .failure(let error) = decode(trailers) else { Issue.record("unbounded trailers accepted"); return }
        #expect(error.status.code == 431)
    }
}
