import Foundation
import HTTP
import Testing

/// Live tests over loopback: real sockets, the real event loops.
@Suite(.serialized)
struct HTTPServerTests {
    struct Boom: Error {}
    enum Greeting: RequestContextKey { typealias Value = String }

    struct GreetingMiddleware: HTTPMiddleware {
        func handle(_ request: HTTPRequest, context: inout RequestContext, next: (HTTPRequest, inout RequestContext) throws -> HTTPResponse) throws -> HTTPResponse {
            context[Greeting.self] = "hello from middleware"
            var response = try next(request, &context)
            response.headers.add("X-Middleware", "ran")
            return response
        }
    }

    static func router() throws -> Router {
        var router = Router()
        router.use(GreetingMiddleware())
        try router.get("/hello", execution: .loop) { _, _ in .text("hello") }
        try router.get("/worker/:name") { request, context in
            .text("worker says hi to \(try context.parameter("name")), \(context[Greeting.self] ?? "?")")
        }
        try router.post("/echo", execution: .loop) { request, _ in
            HTTPResponse(status: .ok, contentType: "application/octet-stream", body: request.body)
        }
        try router.get("/refused") { _, _ in throw HTTPError(.conflict, "Operation 20 is already running on M-01.") }
        try router.get("/broken") { _, _ in throw Boom() }
        try router.get("/slow") { _, _ in
            Thread.sleep(forTimeInterval: 0.5)
            return .text("finally")
        }
        try router.get("/big", execution: .loop) { _, _ in .text(String(repeating: "machine state, ", count: 2000)) }
        try router.get("/query", execution: .loop) { request, _ in
            let query = try request.query()
            return .text("shift=\(query["shift"] ?? "-") line=\(query["line"] ?? "-")")
        }
        try router.post("/scrap") { request, _ in
            let parts = try request.multipartParts()
            let summary = parts.map { part in "\(part.name):\(part.filename ?? "-"):\(part.body.count)" }
            return .text(summary.joined(separator: ","))
        }
        try router.post("/form") { request, _ in
            let form = try request.formParameters()
            return .text("qty=\(form["qty"] ?? "-") reason=\(form["reason"] ?? "-")")
        }
        return router
    }

    @Test func get_answersWithHeadersAndBody() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try #require(client.readResponses(1).first)
        #expect(response.status == 200)
        #expect(response.text == "hello")
        #expect(response.header("Content-Length") == "5")
        #expect(response.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(response.header("Date")?.hasSuffix(" GMT") == true)
        #expect(response.header("X-Request-Id")?.isEmpty == false)
        #expect(response.header("X-Middleware") == "ran")
    }

    @Test func keepAlive_andPipelining_answerInOrderOnOneConnection() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /worker/a HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /worker/c HTTP/1.1\r\nHost: x\r\n\r\n")
        let responses = client.readResponses(3)
        #expect(responses.map(\.text) == [
            "worker says hi to a, hello from middleware", "hello", "worker says hi to c, hello from middleware",
        ])
        client.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let (bytes, closed) = client.read()
        #expect(RawResponse.parseAll(bytes).first?.header("Connection") == "close")
        #expect(closed)
    }

    @Test func requestBodies_byLengthAndChunked_areDelivered() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world")
        #expect(client.readResponses(1).first?.text == "hello world")
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n")
        #expect(client.readResponses(1).first?.text == "Wikipedia")
    }

    @Test func expect100Continue_getsAnInterimResponseBeforeTheBody() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        let interim = client.readResponses(1)
        #expect(interim.first?.status == 100)
        client.send("data")
        #expect(client.readResponses(1).first?.text == "data")
    }

    @Test func head_hasTheHeadersOfGetButNoBody() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let (bytes, _) = client.read(timeout: 1) { String(decoding: $0, as: UTF8.self).components(separatedBy: "HTTP/1.1 200").count == 3 }
        let text = String(decoding: bytes, as: UTF8.self)
        // The HEAD answer announces 5 bytes but sends none: the next bytes are the GET's status line.
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts.count == 3)
        #expect(parts[1].hasPrefix("HTTP/1.1 200 OK"))
        #expect(parts[2] == "hello")
    }

    /// Bad requests by name, so test logs show the name rather than 17 KB of header.
    enum BadRequest: String, CaseIterable, Sendable {
        case malformedRequestLine, contentLengthWithTransferEncoding, differingContentLength, badChunk
        case unknownTransferCoding, http2, longURI, hugeHeaders, hundredThousandHeaders, bodyTooLarge, badPercentEscape
        case smugglingWithObfuscatedChunked, smugglingWithSpaceBeforeColon

        var request: String {
            switch self {
            case .malformedRequestLine: "GARBAGE\r\n\r\n"
            case .contentLengthWithTransferEncoding: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
            case .differingContentLength: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
            case .badChunk: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n"
            case .unknownTransferCoding: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: br\r\n\r\n"
            case .http2: "GET / HTTP/2.0\r\nHost: x\r\n\r\n"
            case .longURI: "GET /" + String(repeating: "u", count: 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n"
            case .hugeHeaders: "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "h", count: 17000) + "\r\n\r\n"
            case .hundredThousandHeaders: "GET / HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-A: b\r\n", count: 100_000) + "\r\n"
            // RFC 9112 section 6.1: a Transfer-Encoding other than chunked last, or a field
            // name with white space before the colon, must not be taken at face value.
            case .smugglingWithObfuscatedChunked: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: xchunked\r\n\r\nabcd"
            case .smugglingWithSpaceBeforeColon: "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 4\r\n\r\nabcd"
            case .bodyTooLarge: "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n"
            case .badPercentEscape: "GET /worker/%zz HTTP/1.1\r\nHost: x\r\n\r\n"
            }
        }

        var status: Int {
            switch self {
            case .unknownTransferCoding: 501
            case .http2: 505
            case .longURI: 414
            case .hugeHeaders, .hundredThousandHeaders: 431
            case .bodyTooLarge: 413
            default: 400
            }
        }

        /// A bad escape is a well-framed request: it is answered and the connection kept.
        var closes: Bool { self != .badPercentEscape }
    }

    @Test(arguments: BadRequest.allCases)
    func badInput_getsItsStatusAndTheConnectionCloses(bad: BadRequest) throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send(bad.request)
        let (bytes, closed) = client.read(timeout: bad.closes ? 3 : 1) { _ in false }
        let response = RawResponse.parseAll(bytes).first
        #expect(response?.status == bad.status, "\(bad)")
        if bad.closes { #expect(closed, "\(bad): the connection should be closed") }
        #expect(response?.header("X-Request-Id") != nil)
    }

    @Test func slowloris_gets408AfterTheHeaderTimeout() throws {
        let server = try TestServer(router: Self.router()) { $0.headerTimeout = 0.5 }
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        let started = Date()
        let (bytes, closed) = client.read(timeout: 5) { _ in false }
        #expect(RawResponse.parseAll(bytes).first?.status == 408)
        #expect(closed)
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test func idleKeepAliveConnection_isClosedAfterTheIdleTimeout() throws {
        let server = try TestServer(router: Self.router()) { $0.idleTimeout = 0.5 }
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponses(1).count == 1)
        let (_, closed) = client.read(timeout: 4) { _ in false }
        #expect(closed)
    }

    @Test func handlerErrors_showOnlyWhatIsMeantForUsers() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /refused HTTP/1.1\r\nHost: x\r\n\r\nGET /broken HTTP/1.1\r\nHost: x\r\n\r\n")
        let responses = client.readResponses(2)
        #expect(responses.first?.status == 409)
        #expect(responses.first?.text.contains("Operation 20 is already running on M-01.") == true)
        let broken = try #require(responses.last)
        #expect(broken.status == 500)
        #expect(!broken.text.contains("Boom"))
        #expect(broken.text.contains(try #require(broken.header("X-Request-Id"))))
    }

    @Test func unknownPath_is404_andWrongMethod_is405WithAllow() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\nDELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let responses = client.readResponses(2)
        #expect(responses.map(\.status) == [404, 405])
        #expect(responses.last?.header("Allow") == "GET, HEAD")
    }

    @Test func connectionsBeyondTheCap_get503() throws {
        let server = try TestServer(router: Self.router()) { $0.maxConnections = 2 }
        defer { server.stop() }
        let first = try RawClient(port: server.port)
        let second = try RawClient(port: server.port)
        first.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        second.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(first.readResponses(1).count == 1)
        #expect(second.readResponses(1).count == 1)
        let third = try RawClient(port: server.port)
        let (bytes, closed) = third.read(timeout: 2) { _ in false }
        #expect(RawResponse.parseAll(bytes).first?.status == 503)
        #expect(closed)
    }

    @Test func shutdown_letsInFlightRequestsFinish() throws {
        let server = try TestServer(router: Self.router())
        let client = try RawClient(port: server.port)
        client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.1)
        let stopper = Thread { server.stop() }
        stopper.start()
        let (bytes, closed) = client.read(timeout: 4) { _ in false }
        let response = RawResponse.parseAll(bytes).first
        #expect(response?.text == "finally")
        #expect(response?.header("Connection") == "close")
        #expect(closed)
        #expect(throws: (any Error).self) { _ = try RawClient(port: server.port) }
    }

    @Test func curl_reusesTheConnection_andDecompressesGzip() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let result = try run("/usr/bin/curl", ["-sS", "-v", "--compressed", "\(server.url)/big", "\(server.url)/query?shift=2&line=L%201"])
        let output = String(decoding: result.output, as: UTF8.self)
        #expect(result.status == 0, "\(result.error)")
        let big = String(repeating: "machine state, ", count: 2000)
        #expect(output.hasPrefix(big))
        #expect(output.dropFirst(big.count) == "shift=2 line=L 1")
        #expect(result.error.contains("Content-Encoding: gzip"))
        #expect(result.error.contains("Re-using existing connection") || result.error.contains("Reusing existing connection"))
    }

    @Test func uploads_andForms_fromCurl_areDecoded() throws {
        let server = try TestServer(router: Self.router()) { $0.limits.maxUploadBytes = 4 * 1024 * 1024 }
        defer { server.stop() }
        let photo = FileManager.default.temporaryDirectory.appendingPathComponent("scrap-\(UUID().uuidString).jpg")
        try Data((0..<2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }).write(to: photo)
        defer { try? FileManager.default.removeItem(at: photo) }
        let upload = try run("/usr/bin/curl", ["-sS", "-F", "reason=burr", "-F", "photo=@\(photo.path);type=image/jpeg", "\(server.url)/scrap"])
        #expect(String(decoding: upload.output, as: UTF8.self) == "reason:-:4,photo:\(photo.lastPathComponent):2000000", "\(upload.error)")
        let form = try run("/usr/bin/curl", ["-sS", "--data-urlencode", "qty=3", "--data-urlencode", "reason=burr & chip", "\(server.url)/form"])
        #expect(String(decoding: form.output, as: UTF8.self) == "qty=3 reason=burr & chip")
        let wrongType = try run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: text/plain", "--data", "x", "\(server.url)/form"])
        #expect(String(decoding: wrongType.output, as: UTF8.self) == "415")
        let tooBig = try run("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@\(photo.path)", "\(server.url)/form"])
        #expect(String(decoding: tooBig.output, as: UTF8.self) == "413")
    }

    @Test func pythonHTTPClient_keepsAliveAcrossRequests() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let script = """
            import http.client
            c = http.client.HTTPConnection("127.0.0.1", \(server.port), timeout=5)
            out = []
            for path in ["/hello", "/worker/py", "/nowhere"]:
                c.request("GET", path)
                r = c.getresponse()
                out.append(f"{r.status}:{r.read().decode()[:40]}")
            c.request("POST", "/echo", body=b"x" * 100000)
            r = c.getresponse()
            out.append(f"{r.status}:{len(r.read())}")
            print("|".join(out))
            """
        let result = try run("/usr/bin/env", ["python3", "-c", script])
        #expect(result.status == 0, "\(result.error)")
        #expect(String(decoding: result.output, as: UTF8.self) == "200:hello|200:worker says hi to py, hello from middlew|404:<!doctype html><html lang=\"en\"><head><me|200:100000\n")
    }
}

/// Streamed (chunked) responses produced on a worker.
@Suite(.serialized)
struct StreamedResponseTests {
    static func router() throws -> Router {
        var router = Router()
        try router.get("/export") { _, _ in
            .stream(contentType: "text/csv") { writer in
                try writer.write("lot,serial\n")
                for n in 1...2000 { try writer.write("L-\(n / 100),S-\(n)\n") }
            }
        }
        try router.get("/failing") { _, _ in
            .stream(contentType: "text/plain") { writer in
                try writer.write("partial")
                struct Interrupted: Error {}
                throw Interrupted()
            }
        }
        try router.get("/hello", execution: .loop) { _, _ in .text("hello") }
        return router
    }

    static var expectedCSV: String { "lot,serial\n" + (1...2000).map { "L-\($0 / 100),S-\($0)\n" }.joined() }

    @Test func stream_isSentChunked_andTheConnectionStaysUsable() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /export HTTP/1.1\r\nHost: x\r\n\r\n")
        let (bytes, _) = client.read(timeout: 5) { String(decoding: $0, as: UTF8.self).hasSuffix("\r\n0\r\n\r\n") }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("Transfer-Encoding: chunked\r\n"))
        #expect(!text.contains("Content-Length"))
        client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(client.readResponses(1).first?.text == "hello")
        let curl = try run("/usr/bin/curl", ["-sS", "\(server.url)/export"])
        #expect(String(decoding: curl.output, as: UTF8.self) == Self.expectedCSV)
    }

    @Test func stream_toAnHTTP10Client_endsWithTheConnection() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /export HTTP/1.0\r\n\r\n")
        let (bytes, closed) = client.read(timeout: 5) { _ in false }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(closed)
        #expect(text.hasSuffix("\r\n\r\n" + Self.expectedCSV))
        #expect(!text.contains("Transfer-Encoding"))
    }

    @Test func failingStream_cutsTheConnectionWithoutTheFinalChunk() throws {
        let server = try TestServer(router: Self.router())
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.send("GET /failing HTTP/1.1\r\nHost: x\r\n\r\n")
        let (bytes, closed) = client.read(timeout: 5) { _ in false }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(closed)
        #expect(text.contains("7\r\npartial\r\n"))
        #expect(!text.hasSuffix("0\r\n\r\n"))
    }

    @Test func slowReader_holdsTheProducerBack_andDisconnectStopsIt() throws {
        let produced = ProducedCounter()
        var router = Router()
        try router.get("/firehose") { _, _ in
            .stream(contentType: "application/octet-stream") { writer in
                let block = [UInt8](repeating: 65, count: 64 * 1024)
                while true {
                    try writer.write(block)
                    produced.add(block.count)
                }
            }
        }
        let server = try TestServer(router: router)
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        client.shrinkReceiveBuffer()
        client.send("GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n")
        Thread.sleep(forTimeInterval: 1)
        // Without back-pressure the producer would have made gigabytes by now.
        #expect(produced.value < 16 * 1024 * 1024, "produced \(produced.value) bytes for a client that reads nothing")
        client.disconnect()
        #expect(server.waitForNoConnections())
    }
}

final class ProducedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ count: Int) { lock.lock(); total += count; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return total }
}
