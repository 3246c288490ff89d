import CLinux
import Glibc
import Logging
import Synchronization
import Workers

/// One event-loop thread: its own listening socket (SO_REUSEPORT) and epoll set. Each
/// connection is handled start to finish here; only `.worker` handlers leave the thread, and
/// their responses come back through the inbox, woken by an eventfd.
final class EventLoop: @unchecked Sendable {
    // @unchecked: everything but `inbox` is touched only by the loop's own thread.
    enum Message: Sendable {
        case response(connection: UInt64, HTTPResponse, request: HTTPRequest, requestID: String)
        case event(hub: ObjectIdentifier, SSEHub.Published)
        case drain(deadline: MonotonicInstant)
        case streamChunk(connection: UInt64, [UInt8])
        case streamEnd(connection: UInt64, failed: Bool)
    }

    let index: Int
    let core: ServerCore
    private let epoll: Int32
    private let wake: Int32
    private var listener: Int32
    private let inbox = Locked<[Message]>([])
    var connections: [UInt64: Connection] = [:]
    private var nextConnectionID: UInt64 = 2  // 0 is the listener, 1 the wake-up eventfd
    private var nextRequestNumber = 0
    private var draining: MonotonicInstant?
    private var hubs: [ObjectIdentifier: SSEHub] = [:]
    let sinkKey: Int
    private var cachedDate = (second: -1, text: "")
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    private static let sinkKeys = Atomic<Int>(0)

    init(index: Int, core: ServerCore, listener: Int32) throws(SocketError) {
        self.index = index
        self.core = core
        self.listener = listener
        self.sinkKey = Self.sinkKeys.add(1, ordering: .relaxed).newValue
        epoll = csys_epoll_create()
        guard epoll >= 0 else { throw SocketError("epoll_create1") }
        wake = csys_eventfd()
        guard wake >= 0 else { throw SocketError("eventfd") }
        guard csys_epoll_add(epoll, listener, CSYS_EPOLLIN, 0) == 0, csys_epoll_add(epoll, wake, CSYS_EPOLLIN, 1) == 0 else {
            throw SocketError("epoll_ctl")
        }
    }

    deinit {
        close(epoll)
        close(wake)
        scratch.deallocate()
    }

    /// Hands a message to the loop from any thread.
    func post(_ message: Message) {
        inbox.withLock { $0.append(message) }
        _ = csys_eventfd_signal(wake)
    }

    /// The loop; returns once drained and every connection is closed.
    func run() {
        csys_set_thread_name("http-loop-\(index)")
        var events = [csys_event](repeating: csys_event(), count: 256)
        var nextSweep = MonotonicInstant.now()
        var nextMemoryReturn = nextSweep.adding(seconds: core.configuration.memoryReturnInterval)
        while true {
            let count = csys_epoll_wait(epoll, &events, Int32(events.count), 250)
            let now = MonotonicInstant.now()
            if count > 0 {
                for event in events[0..<Int(count)] {
                    switch event.data {
                    case 0: acceptConnections(now: now)
                    case 1: handleInbox(now: now)
                    default: handleSocket(event, now: now)
                    }
                }
            }
            if now >= nextSweep {
                sweep(now: now)
                nextSweep = now.adding(seconds: 0.25)
            }
            // One loop of the server returns the process's free memory now and then.
            if index == 0, core.configuration.memoryReturnInterval > 0, now >= nextMemoryReturn {
                ProcessMemory.returnFree()
                nextMemoryReturn = now.adding(seconds: core.configuration.memoryReturnInterval)
            }
            if let deadline = draining, connections.isEmpty || now >= deadline {
                for connection in Array(connections.values) { closeConnection(connection) }
                break
            }
        }
        for hub in hubs.values { hub.removeSink(key: sinkKey) }
    }

    // MARK: - Accepting

    private func acceptConnections(now: MonotonicInstant) {
        while listener >= 0 {
            let fd = csys_accept(listener)
            guard fd >= 0 else {
                if errno == EMFILE || errno == ENFILE {
                    core.logger.warning("out of file descriptors; new connections wait")
                }
                return
            }
            if core.openConnections.add(1, ordering: .relaxed).newValue > core.configuration.maxConnections {
                core.openConnections.subtract(1, ordering: .relaxed)
                let refusal = Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\nRetry-After: 5\r\n\r\n".utf8)
                _ = refusal.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                close(fd)
                continue
            }
            Socket.setNoDelay(fd)
            let connection = Connection(id: nextConnectionID, fd: fd, remoteAddress: Socket.peerAddress(fd), now: now)
            nextConnectionID += 1
            guard csys_epoll_add(epoll, fd, CSYS_EPOLLIN | CSYS_EPOLLRDHUP, connection.id) == 0 else {
                core.openConnections.subtract(1, ordering: .relaxed)
                close(fd)
                continue
            }
            connections[connection.id] = connection
        }
    }

    // MARK: - Socket events

    private func handleSocket(_ event: csys_event, now: MonotonicInstant) {
        guard let connection = connections[event.data] else { return }
        if event.events & CSYS_EPOLLERR != 0 { return closeConnection(connection) }
        if event.events & CSYS_EPOLLOUT != 0 {
            guard connection.flush(now: now) else { return closeConnection(connection) }
            afterWrite(connection, now: now)
            guard connections[connection.id] != nil else { return }
        }
        if event.events & (CSYS_EPOLLIN | CSYS_EPOLLRDHUP | CSYS_EPOLLHUP | CSYS_EPOLLERR) != 0, connection.watchingReads {
            // Bound what one connection may buffer: a head, a body, and a little pipelining.
            let limit = core.configuration.limits.maxHeaderBytes + core.configuration.limits.maxRequestLineBytes + 64 * 1024
            switch connection.read(scratch: scratch, limit: max(limit, needed(connection))) {
            case .data, .wouldBlock:
                break
            case .endOfStream:
                connection.peerClosed = true
                stopReading(connection)
            case .failed:
                return closeConnection(connection)
            }
            process(connection, now: now)
        } else if event.events & CSYS_EPOLLHUP != 0 {
            // Both directions are gone: nobody is left to read a response.
            closeConnection(connection)
        }
    }

    /// Bytes the current body still needs, so a large upload can be buffered whole.
    private func needed(_ connection: Connection) -> Int {
        if case .body(_, let framing, let received, _, _) = connection.phase {
            switch framing {
            case .length(let length): return length - received.count + 4096
            case .chunked: return core.configuration.limits.maxUploadBytes
            case .none: return 0
            }
        }
        return 0
    }

    func stopReading(_ connection: Connection) {
        guard connection.watchingReads else { return }
        connection.watchingReads = false
        updateInterest(connection)
    }

    func updateInterest(_ connection: Connection) {
        var events: UInt32 = 0
        if connection.watchingReads { events |= CSYS_EPOLLIN | CSYS_EPOLLRDHUP }
        if connection.watchingWrites { events |= CSYS_EPOLLOUT }
        _ = csys_epoll_modify(epoll, connection.fd, events, connection.id)
    }

    /// Queues bytes and writes what the socket takes now.
    func write(_ bytes: [UInt8], to connection: Connection, now: MonotonicInstant) {
        connection.output.append(contentsOf: bytes)
        guard connection.flush(now: now) else { return closeConnection(connection) }
        afterWrite(connection, now: now)
    }

    /// Watches writability while output is pending; closes when a final response is out.
    private func afterWrite(_ connection: Connection, now: MonotonicInstant) {
        let pending = connection.pendingOutput > 0
        if case .producing(let writer, _) = connection.phase { writer.drained(socketPending: connection.pendingOutput) }
        if pending != connection.watchingWrites {
            connection.watchingWrites = pending
            updateInterest(connection)
        }
        if !pending && connection.closeAfterWrite {
            // Half-close first so the client reads the whole response before seeing the end.
            shutdown(connection.fd, Int32(SHUT_WR))
            closeConnection(connection)
        } else if !pending, case .idle = connection.phase, connection.bufferedInput > 0 {
            process(connection, now: now)
        }
    }

    func closeConnection(_ connection: Connection) {
        guard connections.removeValue(forKey: connection.id) != nil else { return }
        if case .producing(let writer, _) = connection.phase { writer.cancel() }
        if case .streaming = connection.phase { core.streamClosed() }
        _ = csys_epoll_remove(epoll, connection.fd)
        close(connection.fd)
        core.openConnections.subtract(1, ordering: .relaxed)
    }

    // MARK: - Inbox

    private func handleInbox(now: MonotonicInstant) {
        csys_eventfd_drain(wake)
        let messages = inbox.withLock { messages in
            defer { messages.removeAll(keepingCapacity: true) }
            return messages
        }
        for message in messages {
            switch message {
            case .response(let id, let response, let request, let requestID):
                guard let connection = connections[id] else { continue }
                complete(connection, request: request, response: response, requestID: requestID, now: now)
                if connections[id] != nil, case .idle = connection.phase { process(connection, now: now) }
            case .event(let hubID, let published):
                deliver(published, from: hubID, now: now)
            case .drain(let deadline):
                startDraining(deadline: deadline, now: now)
            case .streamChunk(let id, let bytes):
                guard let connection = connections[id], case .producing(let writer, let chunked) = connection.phase else { continue }
                write(chunked ? Self.chunk(bytes) : bytes, to: connection, now: now)
                writer.taken(bytes.count, socketPending: connection.pendingOutput)
            case .streamEnd(let id, let failed):
                guard let connection = connections[id], case .producing(_, let chunked) = connection.phase else { continue }
                if failed {
                    // Cut the connection: a client must not take a truncated body for a whole one.
                    closeConnection(connection)
                    continue
                }
                if chunked { write(Array("0\r\n\r\n".utf8), to: connection, now: now) }
                finishResponse(connection, now: now)
                if connections[id] != nil, case .idle = connection.phase { process(connection, now: now) }
            }
        }
    }

    // MARK: - Timers and draining

    /// Enforces the timeouts and sends heartbeats; runs about four times a second.
    private func sweep(now: MonotonicInstant) {
        let configuration = core.configuration
        for connection in Array(connections.values) {
            if let blocked = connection.writeBlockedSince, now.seconds(since: blocked) > configuration.writeTimeout {
                core.logger.debug("closing \(connection.remoteAddress): write timeout")
                closeConnection(connection)
                continue
            }
            switch connection.phase {
            case .idle:
                if connection.pendingOutput == 0, now.seconds(since: connection.idleSince) > configuration.idleTimeout {
                    closeConnection(connection)
                }
            case .head(let started):
                if now.seconds(since: started) > configuration.headerTimeout {
                    fail(connection, HTTPParseError(.requestTimeout, "the request head did not arrive in time"), now: now)
                }
            case .body(_, _, _, _, let started):
                if now.seconds(since: started) > configuration.bodyTimeout {
                    fail(connection, HTTPParseError(.requestTimeout, "the request body did not arrive in time"), now: now)
                }
            case .streaming:
                if now.seconds(since: connection.lastWrite) > configuration.sseHeartbeat {
                    write(SSEEvent.heartbeat, to: connection, now: now)
                }
            case .processing, .producing, .closing:
                break
            }
        }
    }

    /// One chunk of chunked transfer coding (RFC 9112 section 7.1).
    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        Array("\(String(bytes.count, radix: 16))\r\n".utf8) + bytes + [13, 10]
    }

    private func startDraining(deadline: MonotonicInstant, now: MonotonicInstant) {
        guard draining == nil else { return }
        draining = deadline
        if listener >= 0 {
            _ = csys_epoll_remove(epoll, listener)
            close(listener)
            listener = -1
        }
        let goodbye = SSEEvent(event: "shutdown", data: "server restarting").encoded()
        for connection in Array(connections.values) {
            switch connection.phase {
            case .idle where connection.pendingOutput == 0:
                closeConnection(connection)
            case .streaming:
                connection.phase = .closing
                connection.closeAfterWrite = true
                write(goodbye, to: connection, now: now)
            default:
                // In-flight requests finish; their connection closes after the response.
                connection.keepAlive = false
            }
        }
    }

    var isDraining: Bool { draining != nil }

    // MARK: - Helpers for request handling

    func httpDate() -> String {
        let second = HTTPDate.now()
        if cachedDate.second != second { cachedDate = (second, HTTPDate.format(second)) }
        return cachedDate.text
    }

    func makeRequestID() -> String {
        nextRequestNumber += 1
        return "\(core.requestIDPrefix)-\(index)-\(String(nextRequestNumber, radix: 36))"
    }

    func subscribe(to hub: SSEHub) {
        let id = ObjectIdentifier(hub)
        guard hubs[id] == nil else { return }
        hubs[id] = hub
        hub.addSink(key: sinkKey) { [weak self] published in self?.post(.event(hub: id, published)) }
    }
}
