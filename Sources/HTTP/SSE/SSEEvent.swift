/// One server-sent event, framed per the HTML standard's `text/event-stream` format.
public struct SSEEvent: Sendable, Equatable {
    /// The `id:` field; EventSource sends the last one back as `Last-Event-ID` on reconnect.
    public var id: String?
    /// The `event:` field (the listener type); nil means `message`.
    public var event: String?
    /// The payload; each line becomes a `data:` line.
    public var data: String
    /// Reconnection delay hint in milliseconds.
    public var retry: Int?

    public init(id: String? = nil, event: String? = nil, data: String, retry: Int? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.retry = retry
    }

    /// The event's bytes on the wire, ending with the blank line that dispatches it.
    /// CR, LF and CRLF in `data` all start a new `data:` line; CR and LF are removed from
    /// `id` and `event`, where they would break the framing.
    public func encoded() -> [UInt8] {
        var text = ""
        if let id { text += "id: \(Self.singleLine(id))\n" }
        if let event { text += "event: \(Self.singleLine(event))\n" }
        if let retry { text += "retry: \(retry)\n" }
        var line = ""
        var previousWasCR = false
        for character in data.unicodeScalars {
            if character == "\n" && previousWasCR {
                previousWasCR = false
                continue
            }
            previousWasCR = character == "\r"
            if character == "\n" || character == "\r" {
                text += "data: \(line)\n"
                line = ""
            } else {
                line.unicodeScalars.append(character)
            }
        }
        text += "data: \(line)\n\n"
        return Array(text.utf8)
    }

    /// A comment line, used as a heartbeat that keeps proxies and the browser's timers content.
    public static let heartbeat: [UInt8] = Array(": ping\n\n".utf8)

    private static func singleLine(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0 != "\n" && $0 != "\r" && $0 != "\0" }.map(Character.init))
    }
}
