import CLibPQ
import Glibc

/// A message received on a LISTEN channel.
public struct PGNotification: Sendable, Equatable {
    public var channel: String
    public var payload: String
    /// The server process that sent it.
    public var senderPID: Int32
}

extension PGConnection {
    /// Subscribes this session to `channel`.
    public func listen(_ channel: String) throws {
        try execute("LISTEN \(identifier: channel)")
    }

    /// Unsubscribes this session from `channel`.
    public func unlisten(_ channel: String) throws {
        try execute("UNLISTEN \(identifier: channel)")
    }

    /// Sends `payload` to every session listening on `channel`, when the current transaction commits.
    public func notify(_ channel: String, payload: String) throws {
        try execute("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Waits up to `timeout` seconds for notifications and returns those that arrived (maybe none).
    ///
    /// - Parameter wakeDescriptor: a file descriptor that, when readable, ends the wait early
    ///   (a pipe used to stop a listener thread).
    public func waitForNotifications(timeout: Double, wakeDescriptor: Int32? = nil) throws -> [PGNotification] {
        // Something earlier (a query's reply) may already have buffered notifications.
        var received = drainNotifications()
        if !received.isEmpty { return received }
        let socket = PQsocket(handle)
        guard socket >= 0 else { throw PGError(.connectionLost, "the connection has no socket") }
        var descriptors = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0)]
        if let wakeDescriptor { descriptors.append(pollfd(fd: wakeDescriptor, events: Int16(POLLIN), revents: 0)) }
        let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(max(0, timeout * 1000)))
        if ready < 0 {
            if errno == EINTR { return [] }
            throw PGError(.connectionLost, "poll failed: \(String(cString: strerror(errno)))")
        }
        if descriptors[0].revents != 0 {
            guard PQconsumeInput(handle) == 1 else {
                throw PGError(.connectionLost, Self.lastErrorMessage(handle))
            }
            received = drainNotifications()
        }
        return received
    }

    /// True when an idle connection can no longer be used, so a pool can replace it before
    /// handing it out. Costs one `poll()` in the common case.
    func hasBrokenWhileIdle() -> Bool {
        guard isOpen else { return true }
        let socket = PQsocket(handle)
        guard socket >= 0 else { return true }
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return false }
        // Input on an idle session is a notice, a notification, or a goodbye: pg_terminate_backend
        // and server shutdown send a FATAL message and then close, and libpq only sees the close
        // on a later read. An empty query settles which, for one round trip on this rare path.
        guard PQconsumeInput(handle) == 1, isOpen else { return true }
        guard let probe = PQexec(handle, "") else { return true }
        defer { PQclear(probe) }
        return PQresultStatus(probe) != PGRES_EMPTY_QUERY || !isOpen
    }

    private func drainNotifications() -> [PGNotification] {
        var received: [PGNotification] = []
        while let notification = PQnotifies(handle) {
            received.append(PGNotification(
                channel: String(cString: notification.pointee.relname),
                payload: String(cString: notification.pointee.extra),
                senderPID: notification.pointee.be_pid))
            PQfreemem(notification)
        }
        return received
    }
}
