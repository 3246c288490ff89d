import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
@testable import HTTPClient
import Testing

/// The plain-HTTP reader on canned answers written into a socket pair: the three ways a body
/// ends, and the refusals.
struct PlainHTTPConnectionTests {
    /// Reads one answer from bytes a server would have sent.
    static func read(_ answer: String) throws -> (status: Int, body: String, keepAlive: Bool) {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]) }
        let bytes = Array(answer.utf8)
        _ = bytes.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        var reader = PlainHTTPConnections.Reader(fd: fds[0])
        let (head, body) = try PlainHTTPConnections.readAnswer(&reader)
        return (head.status, String(decoding: body, as: UTF8.self), head.keepAlive)
    }

    @Test func bodiesEndByLength_byChunks_orByClose() throws {
        let sized = try Self.read("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"id\": 1}\r\nEXTRA")
        #expect(sized.status == 200 && sized.body == "{\"id\": 1}\r\n" && sized.keepAlive)
        let chunked = try Self.read("HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: t\r\n\r\n")
        #expect(chunked.status == 201 && chunked.body == "Wikipedia" && chunked.keepAlive)
        let closed = try Self.read("HTTP/1.0 500 INTERNAL SERVER ERROR\r\nServer: Werkzeug\r\n\r\nboom")
        #expect(closed.status == 500 && closed.body == "boom" && !closed.keepAlive)
        let told = try Self.read("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")
        #expect(!told.keepAlive)
    }

    @Test func brokenAnswers_areErrorsThatSayWhat() {
        func failure(_ answer: String) -> String {
            do {
                _ = try Self.read(answer)
                return "no error"
            } catch {
                return (error as? PlainHTTPConnections.Failure)?.description ?? "\(error)"
            }
        }
        #expect(failure("") == "connection closed before an answer")
        #expect(failure("SSH-2.0-OpenSSH\r\n\r\n").hasPrefix("not an HTTP answer"))
        #expect(failure("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort") == "connection closed inside the body")
        #expect(failure("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n") == "bad Content-Length '-1'")
        #expect(failure("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == "bad chunk size 'zz'")
    }

    /// The request line keeps a trailing slash and the query, and the client's own framing
    /// headers replace any given.
    @Test func requests_keepThePathAsWritten() throws {
        var request = URLRequest(url: try #require(URL(string: "http://127.0.0.1:8000/mes/rpc/?a=1")))
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("99", forHTTPHeaderField: "Content-Length")
        request.httpBody = Data("{}".utf8)
        let text = String(decoding: PlainHTTPConnections.serialize(request, url: request.url!, host: "127.0.0.1", port: 8000), as: UTF8.self)
        #expect(text.hasPrefix("POST /mes/rpc/?a=1 HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"))
        #expect(text.contains("Content-Length: 2\r\n") && !text.contains("99"))
        #expect(text.hasSuffix("Connection: keep-alive\r\n\r\n{}"))
    }
}
