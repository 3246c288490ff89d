@testable import HTTP
import Testing

struct HTTPRequestParserTests {
    static let simple = "GET /machines/M-01?shift=2 HTTP/1.1\r\nHost: mes.local\r\nAccept: text/html\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n"

    private func parse(_ text: String, limits: HTTPLimits = HTTPLimits()) -> HTTPRequestParser.HeadResult {
        HTTPRequestParser.parseHead(Array(text.utf8), limits: limits)
    }

    private func status(_ text: String, limits: HTTPLimits = HTTPLimits()) -> Int? {
        if case .invalid(let error) = parse(text, limits: limits) { return error.status.code }
        return nil
    }

    @Test func parser_readsRequestLineAndKeepsEveryHeaderLine() throws {
        guard case .complete(let head, let consumed) = parse(Self.simple) else { Issue.record("not complete"); return }
        #expect(consumed == Self.simple.utf8.count)
        #expect(head.method == "GET")
        #expect(head.target == "/machines/M-01?shift=2")
        #expect(head.minorVersion == 1)
        #expect(head.headers.fields.map(\.name) == ["Host", "Accept", "Cookie", "Cookie"])
        #expect(head.headers.values("cookie") == ["a=1", "b=2"])
        #expect(head.headers["HOST"] == "mes.local")
    }

    @Test func parser_everyIncompletePrefixIsIncomplete() {
        let bytes = Array(Self.simple.utf8)
        for length in 0..<bytes.count {
            #expect(HTTPRequestParser.parseHead(Array(bytes[0..<length])) == .incomplete, "prefix of \(length) bytes")
        }
    }

    @Test func parser_stopsAtTheEndOfTheHead_leavingPipelinedBytes() throws {
        let two = Self.simple + "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
        guard case .complete(_, let consumed) = parse(two) else { Issue.record("not complete"); return }
        #expect(consumed == Self.simple.utf8.count)
    }

    @Test func parser_acceptsBareLFAndLeadingEmptyLines_andTrimsOWS() throws {
        guard case .complete(let head, _) = parse("\r\n\nPOST /x HTTP/1.0\nContent-Length:  5 \t\n\n") else { Issue.record("not complete"); return }
        #expect(head.method == "POST")
        #expect(head.minorVersion == 0)
        #expect(head.headers["Content-Length"] == "5")
    }

    static let refusals: [(String, String, Int)] = [
        ("no version", "GET /\r\n\r\n", 400),
        ("lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", 400),
        ("double space", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("space in target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("bad method byte", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("HTTP/1.2", "GET / HTTP/1.2\r\nHost: x\r\n\r\n", 505),
        ("HTTP/0.9", "GET / HTTP/0.9\r\nHost: x\r\n\r\n", 505),
        ("space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        ("no colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", 400),
        ("empty name", "GET / HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n", 400),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\n\r\n", 400),
        ("NUL in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", 400),
        ("bare CR in value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", 400),
        ("missing Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", 400),
        ("two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        ("bare CR before request line", "\rGET / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ]

    @Test(arguments: refusals)
    func parser_refusesMalformedHeads(name: String, text: String, expected: Int) {
        #expect(status(text) == expected, "\(name)")
    }

    @Test func parser_http10WithoutHostIsFine() {
        guard case .complete = parse("GET / HTTP/1.0\r\n\r\n") else { Issue.record("HTTP/1.0 needs no Host"); return }
    }

    @Test func parser_enforcesLimits_evenBeforeTheHeadIsComplete() {
        var limits = HTTPLimits()
        limits.maxRequestLineBytes = 32
        limits.maxHeaderBytes = 64
        limits.maxHeaderFields = 3
        let longTarget = "GET /" + String(repeating: "a", count: 40) + " HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(status(longTarget, limits: limits) == 414)
        #expect(status("GET /" + String(repeating: "a", count: 40), limits: limits) == 414, "no line end yet")
        let bigHeader = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 80) + "\r\n\r\n"
        #expect(status(bigHeader, limits: limits) == 431)
        #expect(status("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "b", count: 80), limits: limits) == 431, "no end yet")
        let manyFields = "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"
        #expect(status(manyFields, limits: limits) == 431)
    }

    @Test func parser_neverCrashesOnAnyByteAnywhere() {
        let base = Array(Self.simple.utf8)
        for position in stride(from: 0, to: base.count, by: 3) {
            for byte: UInt8 in [0, 1, 9, 10, 13, 32, 58, 127, 128, 255] {
                var bytes = base
                bytes[position] = byte
                _ = HTTPRequestParser.parseHead(bytes)
            }
        }
    }

    private func framing(_ headers: HTTPHeaders, minor: Int = 1, limits: HTTPLimits = HTTPLimits()) -> Result<HTTPBodyFraming, HTTPParseError> {
        HTTPRequestParser.framing(of: HTTPRequestHead(method: "POST", target: "/", minorVersion: minor, headers: headers), limits: limits)
    }

    @Test func framing_followsRFC9112Section6() throws {
        #expect(try framing([:]).get() == .none)
        #expect(try framing(["Content-Length": "12"]).get() == .length(12))
        #expect(try framing(["Content-Length": "0"]).get() == .none)
        #expect(try framing(["Content-Length": "7, 7"]).get() == .length(7))
        #expect(try framing(["Content-Length": "7", "content-length": "7"]).get() == .length(7))
        #expect(try framing(["Transfer-Encoding": "chunked"]).get() == .chunked)
        #expect(try framing(["Transfer-Encoding": "Chunked"]).get() == .chunked)
    }

    static let framingRefusals: [(String, HTTPHeaders, Int)] = [
        ("CL with TE", ["Content-Length": "5", "Transfer-Encoding": "chunked"], 400),
        ("differing CL", ["Content-Length": "5", "Content-Length": "6"], 400),
        ("differing CL list", ["Content-Length": "5, 6"], 400),
        ("negative CL", ["Content-Length": "-1"], 400),
        ("CL with plus", ["Content-Length": "+5"], 400),
        ("hex CL", ["Content-Length": "0x10"], 400),
        ("empty CL", ["Content-Length": ""], 400),
        ("unknown coding", ["Transfer-Encoding": "gzip, chunked"], 501),
        ("chunked not last", ["Transfer-Encoding": "chunked, identity"], 501),
        ("chunked twice", ["Transfer-Encoding": "chunked, chunked"], 400),
        ("huge CL", ["Content-Length": "99999999999999999999999"], 413),
        ("CL over limit", ["Content-Length": "1048577"], 413),
    ]

    @Test(arguments: framingRefusals)
    func framing_refusesAmbiguousOrOversizedBodies(name: String, headers: HTTPHeaders, expected: Int) {
        guard case .failure(let error) = framing(headers) else { Issue.record("\(name) accepted"); return }
        #expect(error.status.code == expected, "\(name): \(error)")
    }

    @Test func framing_refusesTransferEncodingInHTTP10() {
        guard case .failure(let error) = framing(["Transfer-Encoding": "chunked"], minor: 0) else { Issue.record("accepted"); return }
        #expect(error.status.code == 400)
    }

    @Test func framing_allowsLargerBodiesForUploads() throws {
        #expect(try framing(["Content-Length": "5000000", "Content-Type": "multipart/form-data; boundary=x"]).get() == .length(5_000_000))
    }

    @Test func keepAlive_followsVersionAndConnectionHeader() {
        #expect(HTTPRequestHead(method: "GET", target: "/", minorVersion: 1).keepAlive)
        #expect(!HTTPRequestHead(method: "GET", target: "/", minorVersion: 1, headers: ["Connection": "close"]).keepAlive)
        #expect(!HTTPRequestHead(method: "GET", target: "/", minorVersion: 0).keepAlive)
        #expect(HTTPRequestHead(method: "GET", target: "/", minorVersion: 0, headers: ["Connection": "Keep-Alive"]).keepAlive)
    }
}
