import Logging
import Workers

/// Request handling on the loop: parse, route, run or hand off, and write the response.
extension EventLoop {
    /// Advances the connection as far as the buffered bytes allow. Requests are handled one at
    /// a time in order, which keeps pipelined responses in request order (RFC 9112 section 9.3.2).
    func process(_ connection: Connection, now: MonotonicInstant) {
        let limits = core.configuration.limits
        while connections[connection.id] != nil {
            switch connection.phase {
            case .idle, .head:
                guard connection.bufferedInput > 0 else {
                    if connection.peerClosed, connection.pendingOutput == 0 { closeConnection(connection) }
                    return
                }
                // Pipelined requests wait while a large response is still being written.
                if connection.pendingOutput > 1024 * 1024 { return }
                if case .idle = connection.phase { connection.phase = .head(started: now) }
                let result = connection.input.withUnsafeBufferPointer { buffer in
                    HTTPRequestParser.parseHead(UnsafeBufferPointer(rebasing: buffer[connection.inputStart...]), limits: limits)
                }
                switch result {
                case .incomplete:
                    if connection.peerClosed { closeConnection(connection) }
                    return
                case .invalid(let error):
                    return fail(connection, error, now: now)
                case .complete(let head, let consumed):
                    connection.consumeInput(consumed)
                    switch HTTPRequestParser.framing(of: head, limits: limits) {
                    case .failure(let error):
                        return fail(connection, error, now: now)
                    case .success(.none):
                        dispatch(connection, head: head, body: [], now: now)
                    case .success(let framing):
                        if let expectation = head.headers["Expect"] {
                            // RFC 9110 section 10.1.1: answer 100 so the client sends the body.
                            guard expectation.lowercased() == "100-continue" else {
                                return fail(connection, HTTPParseError(HTTPStatus(417, "Expectation Failed"), "only 100-continue is supported"), now: now)
                            }
                            if head.minorVersion >= 1, connection.bufferedInput == 0 {
                                write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), to: connection, now: now)
                            }
                        }
                        let decoder = framing == .chunked
                            ? ChunkedDecoder(maxBodyBytes: HTTPRequestParser.isMultipart(head) ? limits.maxUploadBytes : limits.maxBodyBytes)
                            : nil
                        connection.phase = .body(head: head, framing: framing, received: [], decoder: decoder, started: now)
                    }
                }
            case .body(let head, let framing, var received, var decoder, let started):
                connection.phase = .processing  // drop the phase's copy of `received` to avoid copy-on-write
                switch framing {
                case .length(let length):
                    let take = min(length - received.count, connection.bufferedInput)
                    received.append(contentsOf: connection.input[connection.inputStart..<(connection.inputStart + take)])
                    connection.consumeInput(take)
                    if received.count == length {
                        dispatch(connection, head: head, body: received, now: now)
                    } else {
                        connection.phase = .body(head: head, framing: framing, received: received, decoder: decoder, started: started)
                        if connection.peerClosed { closeConnection(connection) }
                        return
                    }
                case .chunked:
                    do {
                        let consumed = try connection.input.withUnsafeBufferPointer { buffer throws(HTTPParseError) in
                            try decoder!.decode(UnsafeBufferPointer(rebasing: buffer[connection.inputStart...]), into: &received)
                        }
                        connection.consumeInput(consumed)
                    } catch {
                        return fail(connection, error, now: now)
                    }
                    if decoder!.isComplete {
                        dispatch(connection, head: head, body: received, now: now)
                    } else {
                        connection.phase = .body(head: head, framing: framing, received: received, decoder: decoder, started: started)
                        if connection.peerClosed { closeConnection(connection) }
                        return
                    }
                case .none:
                    dispatch(connection, head: head, body: [], now: now)
                }
            case .processing, .producing, .streaming, .closing:
                return
            }
        }
    }

    /// Routes a complete request and runs its handler here or on a worker.
    private func dispatch(_ connection: Connection, head: HTTPRequestHead, body: [UInt8], now: MonotonicInstant) {
        connection.phase = .processing
        connection.keepAlive = connection.keepAlive && head.keepAlive && !isDraining && !connection.peerClosed
        let requestID = Self.acceptableRequestID(head.headers["X-Request-Id"]) ?? makeRequestID()
        let request: HTTPRequest
        do {
            request = try HTTPRequest(head: head, body: body, remoteAddress: connection.remoteAddress)
        } catch {
            let placeholder = try! HTTPRequest(head: HTTPRequestHead(method: head.method, target: "/", minorVersion: head.minorVersion))
            return complete(connection, request: placeholder, response: ResponseEncoder.errorPage(error, requestID: requestID), requestID: requestID, now: now)
        }
        switch core.router.match(method: head.method, segments: request.pathSegments) {
        case .notFound:
            let error = HTTPError(.notFound, "There is no page at \(request.path).")
            complete(connection, request: request, response: ResponseEncoder.errorPage(error, requestID: requestID), requestID: requestID, now: now)
        case .methodNotAllowed(let allow):
            let error = HTTPError(.methodNotAllowed, "\(head.method) is not allowed here.", headers: ["Allow": allow.joined(separator: ", ")])
            complete(connection, request: request, response: ResponseEncoder.errorPage(error, requestID: requestID), requestID: requestID, now: now)
        case .found(let route, let parameters):
            let context = RequestContext(requestID: requestID, logger: core.logger, parameters: parameters)
            switch route.execution {
            case .loop:
                let response = core.respond(route: route, request: request, context: context)
                complete(connection, request: request, response: response, requestID: requestID, now: now)
            case .worker:
                let id = connection.id
                let core = self.core
                let accepted = core.workers.submit { [weak self] in
                    let response = core.respond(route: route, request: request, context: context)
                    self?.post(.response(connection: id, response, request: request, requestID: requestID))
                }
                if !accepted {
                    let error = HTTPError(.serviceUnavailable, "The server is shutting down.")
                    connection.keepAlive = false
                    complete(connection, request: request, response: ResponseEncoder.errorPage(error, requestID: requestID), requestID: requestID, now: now)
                }
            }
        }
    }

    /// Writes a handler's response and readies the connection for what comes next.
    func complete(_ connection: Connection, request: HTTPRequest, response: HTTPResponse, requestID: String, now: MonotonicInstant) {
        switch response.body {
        case .eventStream(let hub, let topics) where request.method == "GET":
            startStream(connection, request: request, response: response, hub: hub, topics: topics, requestID: requestID, now: now)
        case .eventStream:
            write(ResponseEncoder.head(response, bodyLength: 0, keepAlive: connection.keepAlive, date: httpDate(), requestID: requestID), to: connection, now: now)
            finishResponse(connection, now: now)
        case .stream(let produce):
            startProducing(connection, request: request, response: response, produce: produce, requestID: requestID, now: now)
        case .bytes(let bytes):
            var output = ResponseEncoder.head(response, bodyLength: bytes.count, keepAlive: connection.keepAlive, date: httpDate(), requestID: requestID)
            // HEAD gets the GET response's headers without its body (RFC 9110 section 9.3.2).
            if request.method != "HEAD" && response.status.allowsBody { output += bytes }
            core.logger.trace("\(request.method) \(request.path) \(response.status.code)", metadata: ["request": "\(requestID)"])
            write(output, to: connection, now: now)
            finishResponse(connection, now: now)
        }
    }

    /// Sends the head of a streamed response and runs its producer on a worker.
    private func startProducing(
        _ connection: Connection, request: HTTPRequest, response: HTTPResponse,
        produce: @escaping @Sendable (ResponseStreamWriter) throws -> Void, requestID: String, now: MonotonicInstant
    ) {
        // HTTP/1.0 has no chunked coding: the body then ends with the connection.
        let chunked = request.head.minorVersion >= 1
        if !chunked { connection.keepAlive = false }
        let output = ResponseEncoder.head(
            response, bodyLength: nil, chunked: chunked, keepAlive: connection.keepAlive, date: httpDate(), requestID: requestID)
        write(output, to: connection, now: now)
        guard connections[connection.id] != nil else { return }
        if request.method == "HEAD" {
            if chunked { write(Array("0\r\n\r\n".utf8), to: connection, now: now) }
            return finishResponse(connection, now: now)
        }
        let id = connection.id
        let logger = core.logger
        let writer = ResponseStreamWriter(window: 256 * 1024) { [weak self] bytes in
            self?.post(.streamChunk(connection: id, bytes))
        }
        connection.phase = .producing(writer: writer, chunked: chunked)
        let accepted = core.workers.submit { [weak self] in
            var failed = false
            do {
                try produce(writer)
            } catch is ResponseStreamWriter.Cancelled {
                failed = true
            } catch {
                logger.error("streamed response for \(request.method) \(request.path) failed: \(error)", metadata: ["request": "\(requestID)"])
                failed = true
            }
            self?.post(.streamEnd(connection: id, failed: failed))
        }
        if !accepted { closeConnection(connection) }
    }

    func finishResponse(_ connection: Connection, now: MonotonicInstant) {
        guard connections[connection.id] != nil else { return }
        if connection.keepAlive {
            connection.phase = .idle
            connection.idleSince = now
            // Pipelined requests already buffered are picked up by the caller's `process` loop.
            if connection.bufferedInput == 0 && connection.peerClosed && connection.pendingOutput == 0 { closeConnection(connection) }
        } else {
            connection.phase = .closing
            connection.closeAfterWrite = true
            stopReading(connection)
            write([], to: connection, now: now)
        }
    }

    /// Answers a request that cannot be read with its status, then closes: after a framing
    /// error the rest of the stream cannot be trusted (RFC 9112 section 6.3).
    func fail(_ connection: Connection, _ error: HTTPParseError, now: MonotonicInstant) {
        let requestID = makeRequestID()
        core.logger.debug("refusing a request from \(connection.remoteAddress): \(error)", metadata: ["request": "\(requestID)"])
        let response = ResponseEncoder.errorPage(HTTPError(error.status, error.reason), requestID: requestID)
        connection.keepAlive = false
        connection.phase = .closing
        connection.closeAfterWrite = true
        stopReading(connection)
        write(ResponseEncoder.head(response, bodyLength: response.bodyBytes.count, keepAlive: false, date: httpDate(), requestID: requestID) + response.bodyBytes, to: connection, now: now)
    }

    // MARK: - Event streams

    private func startStream(_ connection: Connection, request: HTTPRequest, response: HTTPResponse, hub: SSEHub, topics: Set<String>?, requestID: String, now: MonotonicInstant) {
        subscribe(to: hub)
        var head = response
        head.headers.set("Content-Type", "text/event-stream")
        head.headers.set("Cache-Control", "no-store")
        head.headers.set("X-Accel-Buffering", "no")  // tells nginx-style proxies not to buffer the stream
        // No Content-Length: the stream ends when the connection does (RFC 9112 section 6.3, rule 8).
        var output = ResponseEncoder.head(head, bodyLength: nil, keepAlive: false, date: httpDate(), requestID: requestID)
        output += Array("retry: 2000\n\n".utf8)
        var lastID = hub.lastEventID
        // A reconnecting EventSource says where it was; a first connection may carry the
        // position its page was rendered at (SSEHub.resumeToken).
        let resumePoint = request.headers["Last-Event-ID"].flatMap { UInt64($0.trimmingSpaces) }
            ?? (try? request.query())?["after"].flatMap(hub.resumePoint)
        if let resumeFrom = resumePoint {
            if let missed = hub.events(after: resumeFrom) {
                for event in missed where Self.matches(event.topic, topics) { output += event.bytes }
                lastID = max(resumeFrom, missed.last?.id ?? resumeFrom)
            } else {
                // Too far behind: the client must reload what it shows.
                output += SSEEvent(id: String(lastID), event: "reset", data: "events were missed; reload").encoded()
            }
        }
        connection.phase = .streaming(hub: hub, topics: topics, lastID: lastID)
        core.streamOpened()
        connection.keepAlive = false
        write(output, to: connection, now: now)
    }

    func deliver(_ published: SSEHub.Published, from hubID: ObjectIdentifier, now: MonotonicInstant) {
        let limit = core.configuration.sseMaxBufferedBytes
        for connection in Array(connections.values) {
            guard case .streaming(let hub, let topics, let lastID) = connection.phase, ObjectIdentifier(hub) == hubID,
                  published.id > lastID, Self.matches(published.topic, topics)
            else { continue }
            connection.phase = .streaming(hub: hub, topics: topics, lastID: published.id)
            // A client that cannot keep up is dropped rather than buffered without bound;
            // EventSource reconnects and resumes from Last-Event-ID.
            if connection.pendingOutput + published.bytes.count > limit {
                core.logger.info("dropping slow event-stream client \(connection.remoteAddress)")
                closeConnection(connection)
                continue
            }
            write(published.bytes, to: connection, now: now)
        }
    }

    static func matches(_ topic: String?, _ topics: Set<String>?) -> Bool {
        guard let topics else { return true }
        guard let topic else { return true }
        return topics.contains(topic)
    }

    /// A client-supplied request id is reused when it is short and plain, so traces join up.
    static func acceptableRequestID(_ value: String?) -> String? {
        guard let value, (1...64).contains(value.utf8.count),
              value.utf8.allSatisfy({ HTTPRequestParser.isTokenByte($0) })
        else { return nil }
        return value
    }
}
