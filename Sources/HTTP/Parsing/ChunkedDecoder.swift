/// Decodes a `chunked` request body incrementally (RFC 9112 section 7.1): feed it bytes as they
/// arrive; it appends the data to a body and reports how many input bytes it used.
///
/// Chunk extensions are skipped; trailer fields are read and discarded (section 7.1.2 lets a
/// recipient drop them). Sizes, extensions and trailers are bounded, so a hostile client cannot
/// make it buffer without limit.
public struct ChunkedDecoder: Sendable {
    private enum State: Sendable, Equatable {
        case size(value: Int, digits: Int)
        case extensions(size: Int)
        case sizeLF(size: Int)
        case data(remaining: Int)
        case dataCR
        case dataLF
        case trailerLineStart
        case trailerLine
        case finalLF
        case done
    }

    private var state = State.size(value: 0, digits: 0)
    private var lineBytes = 0
    private var trailerBytes = 0
    /// Body bytes decoded so far.
    public private(set) var bodyBytes = 0
    public let maxBodyBytes: Int

    static let maxLineBytes = 4096
    static let maxTrailerBytes = 8192

    public init(maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
    }

    /// True once the last chunk and the trailer section have been read.
    public var isComplete: Bool { state == .done }

    /// Decodes from `input`, appending data to `body`; returns the number of bytes consumed,
    /// which is less than `input.count` only when the body is complete.
    public mutating func decode(_ input: UnsafeBufferPointer<UInt8>, into body: inout [UInt8]) throws(HTTPParseError) -> Int {
        var index = 0
        while index < input.count, state != .done {
            let byte = input[index]
            switch state {
            case .size(let value, let digits):
                if let digit = PercentEncoding.hexValue(byte).map(Int.init) {
                    guard digits < 15 else { throw HTTPParseError(.contentTooLarge, "chunk size is too large") }
                    state = .size(value: value * 16 + digit, digits: digits + 1)
                } else if digits > 0, byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") {
                    state = .extensions(size: value)
                } else if digits > 0, byte == UInt8(ascii: "\r") {
                    state = .sizeLF(size: value)
                } else if digits > 0, byte == UInt8(ascii: "\n") {
                    try startChunk(size: value)
                } else {
                    throw HTTPParseError(.badRequest, "malformed chunk size")
                }
                index += 1
                try countLineByte()
            case .extensions(let size):
                // chunk-ext is skipped up to the end of the line.
                if byte == UInt8(ascii: "\n") {
                    try startChunk(size: size)
                } else if byte == UInt8(ascii: "\r") {
                    state = .sizeLF(size: size)
                } else if byte < 0x20 && byte != UInt8(ascii: "\t") {
                    throw HTTPParseError(.badRequest, "malformed chunk extension")
                }
                index += 1
                try countLineByte()
            case .sizeLF(let size):
                guard byte == UInt8(ascii: "\n") else { throw HTTPParseError(.badRequest, "malformed chunk size line") }
                index += 1
                try startChunk(size: size)
            case .data(let remaining):
                let take = min(remaining, input.count - index)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: input[index..<(index + take)]))
                index += take
                state = remaining == take ? .dataCR : .data(remaining: remaining - take)
            case .dataCR:
                if byte == UInt8(ascii: "\r") {
                    state = .dataLF
                } else if byte == UInt8(ascii: "\n") {
                    state = .size(value: 0, digits: 0)
                } else {
                    throw HTTPParseError(.badRequest, "chunk data is longer than its size")
                }
                index += 1
            case .dataLF:
                guard byte == UInt8(ascii: "\n") else { throw HTTPParseError(.badRequest, "chunk data is longer than its size") }
                state = .size(value: 0, digits: 0)
                index += 1
            case .trailerLineStart:
                if byte == UInt8(ascii: "\r") {
                    state = .finalLF
                } else if byte == UInt8(ascii: "\n") {
                    state = .done
                } else {
                    state = .trailerLine
                    try countTrailerByte()
                }
                index += 1
            case .trailerLine:
                if byte == UInt8(ascii: "\n") { state = .trailerLineStart }
                index += 1
                try countTrailerByte()
            case .finalLF:
                guard byte == UInt8(ascii: "\n") else { throw HTTPParseError(.badRequest, "malformed end of chunked body") }
                state = .done
                index += 1
            case .done:
                break
            }
        }
        return index
    }

    private mutating func startChunk(size: Int) throws(HTTPParseError) {
        lineBytes = 0
        if size == 0 {
            state = .trailerLineStart
            return
        }
        guard bodyBytes + size <= maxBodyBytes else {
            throw HTTPParseError(.contentTooLarge, "the body is larger than \(maxBodyBytes) bytes")
        }
        bodyBytes += size
        state = .data(remaining: size)
    }

    private mutating func countLineByte() throws(HTTPParseError) {
        lineBytes += 1
        if lineBytes > Self.maxLineBytes { throw HTTPParseError(.badRequest, "chunk size line is too long") }
    }

    private mutating func countTrailerByte() throws(HTTPParseError) {
        trailerBytes += 1
        if trailerBytes > Self.maxTrailerBytes { throw HTTPParseError(.requestHeaderFieldsTooLarge, "the trailer fields are too large") }
    }
}
