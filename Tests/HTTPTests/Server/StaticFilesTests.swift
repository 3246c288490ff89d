import Foundation
import HTTP
import Testing

@Suite(.serialized)
struct StaticFilesTests {
    let folder: URL
    let css = String(repeating: ".tile { color: #0a0; }\n", count: 400)

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("mes-public-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("css"), withIntermediateDirectories: true)
        try css.write(to: folder.appendingPathComponent("css/site.css"), atomically: true, encoding: .utf8)
        try Data([0x89, 0x50, 0x4E, 0x47]).write(to: folder.appendingPathComponent("logo.png"))
        try "secret".write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        try "outside".write(to: folder.deletingLastPathComponent().appendingPathComponent("mes-outside.txt"), atomically: true, encoding: .utf8)
        try? FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("escape.txt").path, withDestinationPath: "/etc/passwd")
    }

    private func server() throws -> TestServer {
        let files = try StaticFiles(root: folder.path)
        var router = Router()
        try router.get("/static/*file", execution: .loop, files.handler(parameter: "file"))
        return try TestServer(router: router)
    }

    private func get(_ path: String, headers: String = "", on client: RawClient) -> RawResponse? {
        client.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\(headers)\r\n")
        return client.readResponses(1).first
    }

    @Test func files_areServedWithTypeValidatorsAndCaching() throws {
        let server = try server()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        let response = try #require(get("/static/css/site.css", on: client))
        #expect(response.status == 200)
        #expect(response.text == css)
        #expect(response.header("Content-Type") == "text/css; charset=utf-8")
        #expect(response.header("Cache-Control") == "public, max-age=300")
        #expect(response.header("Last-Modified")?.hasSuffix("GMT") == true)
        let etag = try #require(response.header("ETag"))
        #expect(get("/static/logo.png", on: client)?.header("Content-Type") == "image/png")

        #expect(get("/static/css/site.css", headers: "If-None-Match: \(etag)\r\n", on: client)?.status == 304)
        #expect(get("/static/css/site.css", headers: "If-None-Match: \"other\"\r\n", on: client)?.status == 200)
        let lastModified = try #require(response.header("Last-Modified"))
        #expect(get("/static/css/site.css", headers: "If-Modified-Since: \(lastModified)\r\n", on: client)?.status == 304)
    }

    @Test func files_areGzippedWhenTheClientAcceptsIt() throws {
        let server = try server()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        let response = try #require(get("/static/css/site.css", headers: "Accept-Encoding: br, gzip\r\n", on: client))
        #expect(response.header("Content-Encoding") == "gzip")
        #expect(response.header("Vary") == "Accept-Encoding")
        #expect(response.body.count < css.utf8.count / 4)
        let unzipped = try run("/usr/bin/env", ["python3", "-c", "import gzip,sys; sys.stdout.buffer.write(gzip.decompress(sys.stdin.buffer.read()))"], input: response.body)
        _ = unzipped
        let curl = try run("/usr/bin/curl", ["-sS", "--compressed", "\(server.url)/static/css/site.css"])
        #expect(String(decoding: curl.output, as: UTF8.self) == css)
    }

    static let refused = [
        "/static/../mes-outside.txt", "/static/%2e%2e/mes-outside.txt", "/static/css/%2e%2e/%2e%2e/mes-outside.txt",
        "/static/.env", "/static/escape.txt", "/static/css", "/static/missing.css", "/static/css/site.css%00.png",
        "/static/..%2fmes-outside.txt",
    ]

    @Test(arguments: refused)
    func files_outsideTheFolderOrHidden_areNotFound(path: String) throws {
        let server = try server()
        defer { server.stop() }
        let client = try RawClient(port: server.port)
        let status = get(path, on: client)?.status
        #expect(status == 404 || status == 400, "\(path) gave \(String(describing: status))")
    }
}
