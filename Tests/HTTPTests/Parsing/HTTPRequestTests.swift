import HTTP
import Testing

struct HTTPRequestTests {
    private func request(_ target: String, headers: HTTPHeaders = ["Host": "x"], body: [UInt8] = []) throws -> HTTPRequest {
        try HTTPRequest(head: HTTPRequestHead(method: "POST", target: target, headers: headers), body: body)
    }

    @Test func path_isDecodedPerSegment() throws {
        let decoded = try request("/machines/M%2001/files/a%2Fb?x=1#frag")
        #expect(decoded.pathSegments == ["machines", "M 01", "files", "a/b"])
        #expect(decoded.path == "/machines/M 01/files/a/b")
        #expect(decoded.rawQuery == "x=1")
    }

    @Test func absoluteFormTarget_isReducedToItsPath() throws {
        #expect(try request("http://mes.local:8080/health?deep=1").pathSegments == ["health"])
    }

    @Test func targetsThatAreNotPaths_areRefused() {
        #expect(throws: HTTPError.self) { try request("*") }
        #expect(throws: HTTPError.self) { try request("/a/%zz") }
        #expect(throws: HTTPError.self) { try request("/a/%00") }
    }

    /// Found by the fuzzer: an empty Content-Type used to crash the server.
    @Test func emptyContentType_isAnUnsupportedMediaType_notACrash() throws {
        let empty = try request("/form", headers: ["Host": "x", "Content-Type": ""], body: Array("a=1".utf8))
        #expect(empty.mediaType == "")
        #expect(throws: HTTPError(.unsupportedMediaType, "expected a form (application/x-www-form-urlencoded)")) { try empty.formParameters() }
        #expect(throws: HTTPError.self) { try empty.multipartParts() }
    }

    @Test(arguments: [
        ("gzip, deflate, br", true), ("br;q=1.0, gzip;q=0.5", true), ("gzip;q=0", false), ("identity", false), ("GZIP", true),
    ])
    func acceptEncoding_decidesGzip(header: String, expected: Bool) throws {
        #expect(try request("/", headers: ["Host": "x", "Accept-Encoding": header]).acceptsGzip == expected)
    }
}
