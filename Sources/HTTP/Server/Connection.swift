import Glibc
import Workers

/// One client connection, owned and touched only by its event loop's thread.
final class Connection {
    enum Phase {
        /// Waiting for the first byte of a request.
        case idle
        /// Reading a request head that started at `started`.
        case head(started: MonotonicInstant)
        /// Reading the body of `head`.
        case body(head: HTTPRequestHead, framing: HTTPBodyFraming, received: [UInt8], decoder: ChunkedDecoder?, started: MonotonicInstant)
        /// A handler is producing the response.
        case processing
        /// An event stream: the connection now only carries events from `hub`.
        case streaming(hub: SSEHub, topics: Set<String>?, lastID: UInt64)
        /// A streamed body is being produced on a worker by `writer`.
        case producing(writer: ResponseStreamWriter, chunked: Bool)
        /// A final response is being written; nothing more is read.
        case closing
    }

    let id: UInt64
    let fd: Int32
    let remoteAddress: String
    var phase: Phase = .idle
    var input: [UInt8] = []
    var inputStart = 0
    var output: [UInt8] = []
    static let keptOutputCapacity = 16 * 1024
    var outputStart = 0
    /// Close once `output` is written.
    var closeAfterWrite = false
    /// The peer closed its sending side: finish what was received, then close.
    var peerClosed = false
    var idleSince: MonotonicInstant
    var writeBlockedSince: MonotonicInstant?
    var lastWrite: MonotonicInstant
    /// Whether epoll currently reports writability for this socket.
    var watchingWrites = false
    var watchingReads = true
    /// Keep the connection for another request after the current response.
    var keepAlive = true

    init(id: UInt64, fd: Int32, remoteAddress: String, now: MonotonicInstant) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.idleSince = now
        self.lastWrite = now
    }

    var bufferedInput: Int { input.count - inputStart }
    var pendingOutput: Int { output.count - outputStart }

    func consumeInput(_ count: Int) {
        inputStart += count
        if inputStart == input.count {
            input.removeAll(keepingCapacity: input.capacity <= 64 * 1024)
            inputStart = 0
        } else if inputStart > 32 * 1024 && inputStart * 2 > input.count {
            input.removeFirst(inputStart)
            inputStart = 0
        }
    }

    enum ReadResult { case data, wouldBlock, endOfStream, failed }

    /// Reads what the socket has into `input`, through the loop's scratch buffer.
    func read(scratch: UnsafeMutableRawBufferPointer, limit: Int) -> ReadResult {
        var sawData = false
        while bufferedInput < limit {
            let count = Glibc.read(fd, scratch.baseAddress, scratch.count)
            if count > 0 {
                input.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<count]))
                sawData = true
                if count < scratch.count { return .data }
            } else if count == 0 {
                return .endOfStream
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return sawData ? .data : .wouldBlock
            } else if errno == EINTR {
                continue
            } else {
                return .failed
            }
        }
        return .data
    }

    /// Writes as much of `output` as the socket takes. Returns false if the socket failed.
    func flush(now: MonotonicInstant) -> Bool {
        while outputStart < output.count {
            let count = output.withUnsafeBytes { bytes in
                Glibc.send(fd, bytes.baseAddress! + outputStart, output.count - outputStart, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                outputStart += count
                lastWrite = now
            } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if writeBlockedSince == nil { writeBlockedSince = now }
                return true
            } else if count < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        // Keep a small buffer for the next response or event; a page-sized one goes back to
        // malloc, or 2,000 event streams that once fell behind would hold 256 KiB each.
        output.removeAll(keepingCapacity: output.capacity <= Self.keptOutputCapacity)
        outputStart = 0
        writeBlockedSince = nil
        return true
    }
}
