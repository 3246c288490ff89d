/// One part of a `multipart/form-data` body: a form field or an uploaded file (RFC 7578
/// section 4).
public struct MultipartPart: Sendable, Equatable {
    /// One header line of a part, as sent (name case preserved, value trimmed).
    public struct Header: Sendable, Equatable {
        /// The field name, e.g. `Content-Type`.
        public var name: String
        /// The field value without surrounding spaces and tabs.
        public var value: String

        /// Makes a header line.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// The form field's name, the `name` parameter of `Content-Disposition` (RFC 7578 section 4.2).
    public var name: String
    /// The `filename` parameter, for file fields; "" when a file input was left empty. It is
    /// client-supplied: never use it as a path without sanitising it.
    public var filename: String?
    /// The part's `Content-Type` value, if sent (RFC 7578 section 4.4).
    public var contentType: String?
    /// Every header line of the part, in order.
    public var headers: [Header]
    /// The part's content, byte for byte.
    public var body: [UInt8]

    /// Makes a part.
    public init(name: String, filename: String? = nil, contentType: String? = nil, headers: [Header] = [], body: [UInt8]) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name`, compared case-insensitively (RFC 9110 section 5.1).
    public func header(_ name: String) -> String? {
        headers.first { Multipart.equalsIgnoringASCIICase($0.name, name) }?.value
    }

    /// The body as UTF-8 text (RFC 7578 section 5.1.2: form fields are UTF-8); nil if it is not.
    public var text: String? {
        String(validating: body, as: UTF8.self)
    }
}
