import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Glibc
import Workers

/// HTTP/1.1 over a plain TCP socket, with kept-alive connections reused per host: the client
/// for `http://` URLs.
///
/// Why not URLSession for these: on Linux its libcurl event loop spent a core on a few dozen
/// requests a second (strace: about 250 `epoll_ctl` calls per request), which made the ERP push
/// slower than Tryton. A blocking socket per request costs a `send` and a few `recv` calls.
/// HTTPS still goes through URLSession (`BlockingHTTPClient` picks).
///
/// It asks for no compression and reads bodies by `Content-Length`, chunked, or to the end of
/// the connection. A kept-alive connection the server has closed meanwhile fails before any
/// answer arrives; the request is then sent once more on a new connection.
final class PlainHTTPConnections: Sendable {
    private let idle = Locked<[String: [Int32]]>([:])
    private let maxIdlePerHost: Int

    init(maxIdlePerHost: Int = 8) {
        self.maxIdlePerHost = maxIdlePerHost
    }

    deinit {
        idle.withLock { for sockets in $0.values { for fd in sockets { close(fd) } } }
    }

    struct Failure: Error {
        var description: String
        /// Nothing of an answer arrived: a request on a reused connection may be sent again.
        var beforeAnswer: Bool
    }

    func send(_ request: URLRequest, timeout: Double) throws(BlockingHTTPClient.TransportError) -> BlockingHTTPClient.Response {
        guard let url = request.url, let host = url.host else { throw .init(description: "\(request.url?.absoluteString ?? "?") has no host") }
        let port = url.port ?? 80
        let key = "\(host):\(port)"
        let bytes = Self.serialize(request, url: url, host: host, port: port)
        let target = url.absoluteString
        // A reused connection first; on a stale one, a new connection.
        if let fd = idle.withLock({ $0[key]?.popLast() }) {
            do {
                return try exchange(fd, bytes, key: key, timeout: timeout)
            } catch let failure where failure.beforeAnswer {
                // The server closed it while idle: try a fresh one below.
            } catch {
                throw .init(description: "\(target): \(error.description)")
            }
        }
        let fd: Int32
        do {
            fd = try Self.connect(host: host, port: port, timeout: timeout)
        } catch {
            throw .init(description: "\(target): \(error.description)")
        }
        do {
            return try exchange(fd, bytes, key: key, timeout: timeout)
        } catch {
            throw .init(description: "\(target): \(error.description)")
        }
    }

    /// Sends the request and reads the answer; the socket goes back to the idle list when the
    /// answer allows it, and is closed otherwise (also on every failure).
    private func exchange(_ fd: Int32, _ request: [UInt8], key: String, timeout: Double) throws(Failure) -> BlockingHTTPClient.Response {
        var keep = false
        defer {
            if keep {
                let kept = idle.withLock { idle -> Bool in
                    guard idle[key, default: []].count < maxIdlePerHost else { return false }
                    idle[key, default: []].append(fd)
                    return true
                }
                if !kept { close(fd) }
            } else {
                close(fd)
            }
        }
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, request.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 {
                if n < 0 && errno == EINTR { continue }
                throw Failure(description: "cannot send: \(String(cString: strerror(errno)))", beforeAnswer: true)
            }
            sent += n
        }
        var reader = Reader(fd: fd)
        let (response, body) = try Self.readAnswer(&reader)
        if response.gzipped && body.starts(with: [0x1f, 0x8b]) {
            throw Failure(description: "the answer is gzip-compressed, which was not asked for", beforeAnswer: false)
        }
        keep = response.keepAlive
        return BlockingHTTPClient.Response(status: response.status, headers: response.fields, body: Data(body))
    }

    /// Reads one answer: its head, and its body by length, by chunks or to the close.
    static func readAnswer(_ reader: inout Reader) throws(Failure) -> (Head, [UInt8]) {
        let head = try parseHead(try reader.head())
        if head.chunked { return (head, try reader.chunkedBody()) }
        if let length = head.contentLength { return (head, try reader.bytes(length)) }
        head.keepAlive = false
        return (head, try reader.rest())
    }

    final class Head {
        var status = 0
        var contentLength: Int?
        var chunked = false
        var keepAlive = true
        var gzipped = false
        /// Every field as sent, in order.
        var fields: [(name: String, value: String)] = []
    }

    static func parseHead(_ bytes: [UInt8]) throws(Failure) -> Head {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).makeIterator()
        guard let statusLine = lines.next() else { throw Failure(description: "empty answer", beforeAnswer: false) }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...999).contains(status) else {
            throw Failure(description: "not an HTTP answer: \(statusLine.prefix(80))", beforeAnswer: false)
        }
        let head = Head()
        head.status = status
        head.keepAlive = parts[0] == "HTTP/1.1"
        while let line = lines.next(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            head.fields.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces).lowercased()
            switch name {
            case "content-length":
                guard let length = Int(value), length >= 0 else { throw Failure(description: "bad Content-Length '\(value)'", beforeAnswer: false) }
                head.contentLength = length
            case "transfer-encoding": head.chunked = value.hasSuffix("chunked")
            case "connection": head.keepAlive = value.contains("keep-alive") || (head.keepAlive && !value.contains("close"))
            case "content-encoding": head.gzipped = value.contains("gzip")
            default: break
            }
        }
        return head
    }

    static func serialize(_ request: URLRequest, url: URL, host: String, port: Int) -> [UInt8] {
        // URL.path would drop a trailing slash (Tryton's /db/rpc/ needs it).
        let components = URLComponents(url: url, resolvingAgainstBaseURL: true)
        var target = components.map(\.percentEncodedPath) ?? url.path
        if target.isEmpty { target = "/" }
        if let query = components?.percentEncodedQuery { target += "?" + query }
        let body = request.httpBody ?? Data()
        var head = "\(request.httpMethod ?? "GET") \(target) HTTP/1.1\r\nHost: \(host)\(port == 80 ? "" : ":\(port)")\r\n"
        for (name, value) in request.allHTTPHeaderFields ?? [:] where !["host", "content-length", "connection"].contains(name.lowercased()) {
            head += "\(name): \(value)\r\n"
        }
        head += "Content-Length: \(body.count)\r\nConnection: keep-alive\r\n\r\n"
        return Array(head.utf8) + body
    }

    static func connect(host: String, port: Int, timeout: Double) throws(Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(rc)))", beforeAnswer: true)
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            next = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd < 0 { lastError = String(cString: strerror(errno)); continue }
            var time = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &time, socklen_t(MemoryLayout<timeval>.size))
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 { return fd }
            lastError = String(cString: strerror(errno))
            close(fd)
        }
        throw Failure(description: "cannot connect to \(host):\(port): \(lastError)", beforeAnswer: true)
    }

    /// Buffered reads from one socket.
    struct Reader {
        let fd: Int32
        var buffer: [UInt8] = []
        var start = 0
        var received = 0

        init(fd: Int32) { self.fd = fd }

        /// Reads more; false at the end of the connection.
        mutating func fill() throws(Failure) -> Bool {
            if start > 0 && start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 16_384)
            while true {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n > 0 {
                    buffer += chunk[0..<n]
                    received += n
                    return true
                }
                if n == 0 { return false }
                if errno == EINTR { continue }
                let reason = errno == EAGAIN || errno == EWOULDBLOCK ? "timed out" : String(cString: strerror(errno))
                throw Failure(description: "no answer: \(reason)", beforeAnswer: received == 0)
            }
        }

        /// The status line and headers, without the blank line.
        mutating func head() throws(Failure) -> [UInt8] {
            while true {
                if let end = find([13, 10, 13, 10], from: start) {
                    let head = Array(buffer[start..<end])
                    start = end + 4
                    return head
                }
                if buffer.count - start > 65_536 { throw Failure(description: "answer headers over 64 KiB", beforeAnswer: false) }
                guard try fill() else { throw Failure(description: "connection closed before an answer", beforeAnswer: received == 0) }
            }
        }

        mutating func bytes(_ count: Int) throws(Failure) -> [UInt8] {
            while buffer.count - start < count {
                guard try fill() else { throw Failure(description: "connection closed inside the body", beforeAnswer: false) }
            }
            defer { start += count }
            return Array(buffer[start..<(start + count)])
        }

        mutating func line() throws(Failure) -> String {
            while true {
                if let end = find([13, 10], from: start) {
                    defer { start = end + 2 }
                    return String(decoding: buffer[start..<end], as: UTF8.self)
                }
                guard try fill() else { throw Failure(description: "connection closed inside a chunk header", beforeAnswer: false) }
            }
        }

        mutating func chunkedBody() throws(Failure) -> [UInt8] {
            var body: [UInt8] = []
            while true {
                let sizeLine = try line()
                guard let size = Int(sizeLine.split(separator: ";")[0].trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else {
                    throw Failure(description: "bad chunk size '\(sizeLine.prefix(20))'", beforeAnswer: false)
                }
                if size == 0 {
                    while try !line().isEmpty {}  // trailers
                    return body
                }
                body += try bytes(size)
                _ = try bytes(2)
            }
        }

        mutating func rest() throws(Failure) -> [UInt8] {
            while try fill() {}
            defer { start = buffer.count }
            return Array(buffer[start...])
        }

        func find(_ pattern: [UInt8], from: Int) -> Int? {
            guard buffer.count - from >= pattern.count else { return nil }
            var i = from
            while i + pattern.count <= buffer.count {
                if buffer[i..<(i + pattern.count)].elementsEqual(pattern) { return i }
                i += 1
            }
            return nil
        }
    }
}
