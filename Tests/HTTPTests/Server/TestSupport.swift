import Foundation
import Glibc
import HTTP

/// A server on a free loopback port for one test, shut down by `stop()`.
struct TestServer {
    let server: HTTPServer
    var port: Int { server.port }

    init(router: Router, configure: (inout HTTPServerConfiguration) -> Void = { _ in }) throws {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, loopCount: 2, workerCount: 4)
        configure(&configuration)
        server = HTTPServer(configuration: configuration, router: router)
        try server.start()
    }

    func stop() { server.shutdown(gracePeriod: 2) }

    /// Waits up to `timeout` seconds for every connection to be closed; true if they were.
    func waitForNoConnections(timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while server.connectionCount > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return server.connectionCount == 0
    }

    var url: String { "http://127.0.0.1:\(port)" }
}

/// A blocking TCP client that sends exact bytes and reads raw responses, for the cases real
/// clients will not produce (malformed requests, pipelining, slow senders).
final class RawClient {
    private(set) var fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { disconnect() }

    /// Closes the socket now (idempotent).
    func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
    }

    /// Shrinks the socket's receive buffer, to play a client on bad Wi-Fi that reads slowly.
    func shrinkReceiveBuffer(to bytes: Int32 = 4096) {
        var size = bytes
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            offset += count
        }
    }

    /// Bytes that arrive within `timeout` seconds of quiet, or until the server closes.
    func read(timeout: Double = 2, until done: (([UInt8]) -> Bool)? = nil) -> (bytes: [UInt8], closed: Bool) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let remaining = Int32(max(1, deadline.timeIntervalSinceNow * 1000))
            guard poll(&descriptor, 1, remaining) > 0 else { break }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return (received, true) }
            received += buffer[0..<count]
            if let done, done(received) { break }
        }
        return (received, false)
    }

    /// Reads exactly `count` complete responses (Content-Length framed).
    func readResponses(_ count: Int, timeout: Double = 3) -> [RawResponse] {
        let (bytes, _) = read(timeout: timeout) { RawResponse.parseAll($0).count >= count }
        return RawResponse.parseAll(bytes)
    }
}

/// A response read off the wire by `RawClient`.
struct RawResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }

    /// Every complete response at the start of `bytes`; interim 1xx responses are included.
    static func parseAll(_ bytes: [UInt8]) -> [RawResponse] {
        var responses: [RawResponse] = []
        var rest = bytes[...]
        while let end = rest.firstRange(of: Array("\r\n\r\n".utf8)) {
            let head = String(decoding: rest[rest.startIndex..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
            let status = Int(head[0].split(separator: " ")[1]) ?? 0
            let headers = head.dropFirst().compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            var response = RawResponse(status: status, headers: headers, body: [])
            let length = response.header("Content-Length").flatMap(Int.init) ?? 0
            guard rest.distance(from: end.upperBound, to: rest.endIndex) >= length else { break }
            response.body = Array(rest[end.upperBound..<rest.index(end.upperBound, offsetBy: length)])
            responses.append(response)
            rest = rest[rest.index(end.upperBound, offsetBy: length)...]
        }
        return responses
    }
}

/// Runs a command line tool and returns its standard output, error and exit status.
func run(_ executable: String, _ arguments: [String], input: [UInt8]? = nil) throws -> (output: [UInt8], error: String, status: Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ([UInt8](data), String(decoding: errorData, as: UTF8.self), process.terminationStatus)
}
