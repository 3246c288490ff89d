import HTTP
import Testing

/// `multipart/form-data` (RFC 7578) with RFC 2046 section 5.1.1 framing.
struct MultipartFormDataTests {
    static let boundary = "----MESBoundary7MA4YWxkTrZu0gW"
    static let limits = MultipartLimits(maxTotalBytes: 1 << 20)

    /// A JPEG-like file holding CR, LF, NUL and near-misses of the delimiter.
    static let photo: [UInt8] =
        [0xFF, 0xD8, 0x0D, 0x0A, 0x00, 0x0D]
        + Array("\r\n--\(boundary.dropLast())".utf8)  // the delimiter less its last byte
        + Array("\n--\(boundary)\r\n".utf8)  // after a bare LF: not a delimiter
        + Array("\r--\(boundary)--".utf8)  // after a bare CR: not a delimiter
        + Array("x--\(boundary)--\r\n".utf8)  // not at the start of a line
        + [0x0D, 0x0A, 0x2D, 0xFF, 0xD9, 0x0D]  // ends in CR, right before the real delimiter

    static let browserBody: [UInt8] =
        Array("preamble to ignore\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\nBurr on édge\r\n".utf8)
        + Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"日本\"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n日本語\r\n".utf8)
        + Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"scrap \\\"1\\\".jpg\"\r\n".utf8)
        + Array("Content-Type: image/jpeg\r\n\r\n".utf8) + photo
        + Array("\r\n--\(boundary)--".utf8)

    static let browserParts = [
        MultipartPart(
            name: "reason",
            headers: [MultipartPart.Header(name: "Content-Disposition", value: "form-data; name=\"reason\"")],
            body: Array("Burr on édge".utf8)),
        MultipartPart(
            name: "日本", contentType: "text/plain; charset=utf-8",
            headers: [
                MultipartPart.Header(name: "Content-Disposition", value: "form-data; name=\"日本\""),
                MultipartPart.Header(name: "Content-Type", value: "text/plain; charset=utf-8"),
            ],
            body: Array("日本語".utf8)),
        MultipartPart(
            name: "photo", filename: "scrap \"1\".jpg", contentType: "image/jpeg",
            headers: [
                MultipartPart.Header(name: "Content-Disposition", value: "form-data; name=\"photo\"; filename=\"scrap \\\"1\\\".jpg\""),
                MultipartPart.Header(name: "Content-Type", value: "image/jpeg"),
            ],
            body: photo),
    ]

    @Test func multipart_parsesFieldsUTF8AndBinaryFilesExactly() throws {
        let parts = try Multipart.parse(body: Self.browserBody + Array("\r\nepilogue\r\n".utf8), boundary: Self.boundary, limits: Self.limits)
        #expect(parts == Self.browserParts)
        #expect(parts.map(\.text) == ["Burr on édge", "日本語", nil])
        #expect(parts.last?.header("content-type") == "image/jpeg")
        #expect(parts.last?.header("X-Missing") == nil)
    }

    static let binaryContents: [[UInt8]] = [
        [],
        [0x00],
        [0x0D],
        [0x0A],
        [0x0D, 0x0A],
        [0x0D, 0x0A, 0x0D, 0x0A],
        [0x0D, 0x0A, 0x2D],
        Array(0...255),
        Array("\r\n--\(boundary.dropLast())".utf8),
        Array("\r\n--\(boundary.dropLast())\r\n--".utf8),
        Array("x--\(boundary)--".utf8),
        Array("\n--\(boundary)\n".utf8),
        photo,
    ]

    @Test(arguments: binaryContents)
    func multipart_keepsAFileBodyByteForByte(content: [UInt8]) throws {
        let body = Array("--\(Self.boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.bin\"\r\n\r\n".utf8)
            + content + Array("\r\n--\(Self.boundary)--\r\n".utf8)
        let parts = try Multipart.parse(body: body, boundary: Self.boundary, limits: Self.limits)
        #expect(parts.map(\.body) == [content])
        #expect(parts.map(\.filename) == ["b.bin"])
    }

    /// A field named `name` with only a Content-Disposition header.
    static func field(_ name: String, _ value: String, disposition: String? = nil, filename: String? = nil) -> MultipartPart {
        MultipartPart(
            name: name, filename: filename,
            headers: [MultipartPart.Header(name: "Content-Disposition", value: disposition ?? "form-data; name=\"\(name)\"")],
            body: Array(value.utf8))
    }

    static let accepted: [(label: String, body: String, expected: [MultipartPart])] = [
        ("delimiter opens the body", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B--", [field("a", "1")]),
        ("preamble", "pre\r\namble\r\n--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B--", [field("a", "1")]),
        (
            "boundary in the middle of a preamble line",
            "not a line --B\r\n--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B--",
            [field("a", "1")]
        ),
        (
            "epilogue with boundaries",
            "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B--\r\n--B\r\nnot: parsed\r\n",
            [field("a", "1")]
        ),
        (
            "transport padding",
            "--B \t\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B  \r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n--B--",
            [field("a", "1"), field("b", "2")]
        ),
        ("empty content", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--B--", [field("a", "")]),
        ("no content section", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n--B--", [field("a", "")]),
        ("no parts", "--B--\r\n", []),
        (
            "repeated names in order",
            "--B\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\nM1\r\n--B\r\nContent-Disposition: form-data; name=\"m\"\r\n\r\nM2\r\n--B--",
            [field("m", "M1"), field("m", "M2")]
        ),
        (
            "unquoted parameters without spaces",
            "--B\r\nContent-Disposition: form-data;name=a;filename=b.txt\r\n\r\n1\r\n--B--",
            [field("a", "1", disposition: "form-data;name=a;filename=b.txt", filename: "b.txt")]
        ),
        (
            "escaped quote and backslash, quoted semicolon",
            "--B\r\nContent-Disposition: form-data; name=\"a\\\"b\\\\c;d\"\r\n\r\n1\r\n--B--",
            [field("a\"b\\c;d", "1", disposition: "form-data; name=\"a\\\"b\\\\c;d\"")]
        ),
        (
            "empty and UTF-8 file names",
            "--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"\"\r\n\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"g\"; filename=\"日本.txt\"\r\n\r\n語\r\n--B--",
            [
                field("f", "", disposition: "form-data; name=\"f\"; filename=\"\"", filename: ""),
                field("g", "語", disposition: "form-data; name=\"g\"; filename=\"日本.txt\"", filename: "日本.txt"),
            ]
        ),
    ]

    @Test(arguments: accepted)
    func multipart_acceptsWhatRFC2046Allows(label: String, body: String, expected: [MultipartPart]) throws {
        #expect(try Multipart.parse(body: Array(body.utf8), boundary: "B", limits: Self.limits) == expected, "\(label)")
    }

    @Test func multipart_matchesHeaderAndParameterNamesCaseInsensitivelyAndKeepsEveryHeader() throws {
        let body = "--B\r\ncontent-disposition: FORM-DATA; NAME=a; FileName=\"x.txt\"\r\nCONTENT-TYPE:text/plain\r\nX-Extra: \t v  \r\n\r\n1\r\n--B--"
        let parts = try Multipart.parse(body: Array(body.utf8), boundary: "B", limits: Self.limits)
        #expect(parts == [
            MultipartPart(
                name: "a", filename: "x.txt", contentType: "text/plain",
                headers: [
                    MultipartPart.Header(name: "content-disposition", value: "FORM-DATA; NAME=a; FileName=\"x.txt\""),
                    MultipartPart.Header(name: "CONTENT-TYPE", value: "text/plain"),
                    MultipartPart.Header(name: "X-Extra", value: "v"),
                ],
                body: [0x31]),
        ])
    }

    static let refusals: [(label: String, body: String, reason: String)] = [
        ("empty body", "", "the upload has no boundary line"),
        ("no boundary line", "just text --B", "the upload has no boundary line"),
        ("boundary is a prefix", "--Bx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--Bx--", "a boundary line has unexpected text after it"),
        (
            "text after a later boundary",
            "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--Bad\r\n\r\n--B--",
            "a boundary line has unexpected text after it"
        ),
        ("ends after the boundary", "--B", "the upload ends without its closing boundary"),
        ("ends after the boundary's CR", "--B\r", "the upload ends without its closing boundary"),
        ("ends inside a header line", "--B\r\nContent-Disposition: form-data; name=\"a\"", "the upload ends inside a part's headers"),
        ("ends before the blank line", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n", "the upload ends inside a part's headers"),
        ("no closing delimiter", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "the upload ends without its closing boundary"),
        ("closing delimiter with one dash", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\r\n--B-", "the upload ends without its closing boundary"),
        ("no Content-Disposition", "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--", "a part has no Content-Disposition"),
        ("no headers", "--B\r\n\r\nx\r\n--B--", "a part has no Content-Disposition"),
        (
            "second part without Content-Disposition",
            "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B\r\nX-Other: 1\r\n\r\n2\r\n--B--",
            "a part has no Content-Disposition"
        ),
        ("no name", "--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--", "a part has no field name"),
        ("empty name", "--B\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nx\r\n--B--", "a part has no field name"),
        ("file name but no name", "--B\r\nContent-Disposition: form-data; filename=\"a.txt\"\r\n\r\nx\r\n--B--", "a part has no field name"),
        ("not form-data", "--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--B--", "a part is not form-data"),
        ("empty disposition", "--B\r\nContent-Disposition:\r\n\r\nx\r\n--B--", "a part is not form-data"),
        ("unterminated quote", "--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--B--", "a part has a malformed Content-Disposition"),
        ("parameter without value", "--B\r\nContent-Disposition: form-data; name\r\n\r\nx\r\n--B--", "a part has a malformed Content-Disposition"),
        ("unquoted value with a space", "--B\r\nContent-Disposition: form-data; name=a b\r\n\r\nx\r\n--B--", "a part has a malformed Content-Disposition"),
        ("no colon", "--B\r\nno colon here\r\n\r\nx\r\n--B--", "a part has a malformed header line"),
        ("empty header name", "--B\r\n: x\r\n\r\nx\r\n--B--", "a part has a malformed header line"),
        ("space before the colon", "--B\r\nContent-Disposition : form-data; name=\"a\"\r\n\r\nx\r\n--B--", "a part has a malformed header line"),
        (
            "folded header line",
            "--B\r\nContent-Disposition: form-data;\r\n name=\"a\"\r\n\r\nx\r\n--B--",
            "a part has a malformed header line"
        ),
        (
            "header line ending in a bare LF",
            "--B\r\nContent-Disposition: form-data; name=\"a\"\nX: y\r\n\r\nx\r\n--B--",
            "a part has a malformed header line"
        ),
        ("bare CR in a header", "--B\r\nX: a\rb\r\n\r\nx\r\n--B--", "a part has a malformed header line"),
        ("NUL in a header", "--B\r\nX: a\u{0}b\r\n\r\nx\r\n--B--", "a part has a malformed header line"),
    ]

    @Test(arguments: refusals)
    func multipart_refusesMalformedBodiesWithAClearReason(label: String, body: String, reason: String) {
        #expect(throws: FormError(reason), "\(label)") {
            try Multipart.parse(body: Array(body.utf8), boundary: "B", limits: Self.limits)
        }
    }

    @Test func multipart_refusesAHeaderThatIsNotUTF8() {
        let body = Array("--B\r\nContent-Disposition: form-data; name=\"".utf8) + [0xC3, 0x28]
            + Array("\"\r\n\r\nx\r\n--B--".utf8)
        #expect(throws: FormError("a part has a header that is not UTF-8")) {
            try Multipart.parse(body: body, boundary: "B", limits: Self.limits)
        }
    }

    static func fields(_ count: Int) -> [UInt8] {
        Array(((0..<count).map { "--B\r\nContent-Disposition: form-data; name=\"f\($0)\"\r\n\r\nx\r\n" }.joined() + "--B--").utf8)
    }

    @Test(arguments: [(3, 3), (3, 100), (0, 0)] as [(Int, Int)])
    func multipart_acceptsUpToMaxParts(count: Int, maxParts: Int) throws {
        let parts = try Multipart.parse(body: Self.fields(count), boundary: "B", limits: MultipartLimits(maxParts: maxParts, maxTotalBytes: 10_000))
        #expect(parts.map(\.name) == (0..<count).map { "f\($0)" })
    }

    @Test(arguments: [(3, 2), (5, 3), (1, 0)] as [(Int, Int)])
    func multipart_refusesMoreThanMaxParts(count: Int, maxParts: Int) {
        #expect(throws: FormError("the upload has more than \(maxParts) parts")) {
            try Multipart.parse(body: Self.fields(count), boundary: "B", limits: MultipartLimits(maxParts: maxParts, maxTotalBytes: 10_000))
        }
    }

    @Test func multipart_allowsPartHeadersOfExactlyTheLimitAndRefusesOneByteMore() throws {
        let headerBlock = "Content-Disposition: form-data; name=\"a\"\r\nX-Pad: ppp\r\n"
        let body = Array("--B\r\n\(headerBlock)\r\nx\r\n--B--".utf8)
        let size = headerBlock.utf8.count
        let parts = try Multipart.parse(body: body, boundary: "B", limits: MultipartLimits(maxPartHeaderBytes: size, maxTotalBytes: 10_000))
        #expect(parts.map(\.name) == ["a"])
        #expect(throws: FormError("a part's headers are larger than \(size - 1) bytes")) {
            try Multipart.parse(body: body, boundary: "B", limits: MultipartLimits(maxPartHeaderBytes: size - 1, maxTotalBytes: 10_000))
        }
    }

    @Test(arguments: [
        "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: \(String(repeating: "p", count: 200))\r\n\r\nx\r\n--B--",
        "--B\r\nX-Pad: \(String(repeating: "p", count: 5_000))",  // no line end at all
        "--B\r\n" + String(repeating: "X: y\r\n", count: 50) + "\r\nx\r\n--B--",  // many short lines
    ])
    func multipart_refusesPartHeadersOverTheLimit(body: String) {
        #expect(throws: FormError("a part's headers are larger than 100 bytes")) {
            try Multipart.parse(body: Array(body.utf8), boundary: "B", limits: MultipartLimits(maxPartHeaderBytes: 100, maxTotalBytes: 10_000))
        }
    }

    @Test func multipart_allowsExactlyMaxTotalBytesAndRefusesMore() throws {
        let body = Self.fields(2)
        #expect(try Multipart.parse(body: body, boundary: "B", limits: MultipartLimits(maxTotalBytes: body.count)).count == 2)
        #expect(throws: FormError("the upload is larger than \(body.count - 1) bytes")) {
            try Multipart.parse(body: body, boundary: "B", limits: MultipartLimits(maxTotalBytes: body.count - 1))
        }
    }

    @Test(arguments: ["", String(repeating: "b", count: 71), "ends in space ", "bad\r\n", "quo\"te"])
    func multipart_refusesAnInvalidBoundaryArgument(boundary: String) {
        #expect(throws: FormError("the upload's boundary is not valid")) {
            try Multipart.parse(body: Array("--\(boundary)--".utf8), boundary: boundary, limits: Self.limits)
        }
    }

    static let truncationSamples: [(label: String, body: [UInt8], partCount: Int)] = [
        ("browser body", browserBody, 3),
        ("minimal field", Array("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B--".utf8), 1),
        ("no content section", Array("--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n--B--".utf8), 1),
        ("padding and preamble", Array("x\r\n--B \r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--B\t\r\nContent-Disposition: form-data; name=b\r\n\r\nz\r\n--B--".utf8), 2),
    ]

    @Test(arguments: truncationSamples)
    func multipart_refusesEveryTruncatedPrefixOfAValidBody(label: String, body: [UInt8], partCount: Int) throws {
        let boundary = label == "browser body" ? Self.boundary : "B"
        #expect(try Multipart.parse(body: body, boundary: boundary, limits: Self.limits).count == partCount, "\(label)")
        var acceptedLengths: [Int] = []
        for length in 0..<body.count {
            do {
                _ = try Multipart.parse(body: Array(body[..<length]), boundary: boundary, limits: Self.limits)
                acceptedLengths.append(length)
            } catch {
                // Typed throws: every failure is a FormError, which the server answers as a 400.
                #expect(!error.reason.isEmpty)
            }
        }
        #expect(acceptedLengths == [], "\(label)")
    }

    static let contentTypes: [(contentType: String, expected: String?)] = [
        ("multipart/form-data; boundary=abc", "abc"),
        ("multipart/form-data;boundary=abc", "abc"),
        ("multipart/form-data; BOUNDARY=abc", "abc"),
        ("multipart/form-data; boundary=abc; charset=utf-8", "abc"),
        ("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", "----WebKitFormBoundary7MA4YWxkTrZu0gW"),
        ("multipart/form-data; charset=utf-8; boundary=\"quoted boundary\"", "quoted boundary"),
        ("multipart/form-data; charset=\"a;b\"; boundary=xyz", "xyz"),
        ("multipart/form-data; boundary=\"a'()+_,-./:=?\"", "a'()+_,-./:=?"),
        ("multipart/form-data; boundary=" + String(repeating: "x", count: 70), String(repeating: "x", count: 70)),
        ("multipart/form-data", nil),
        ("multipart/form-data; charset=utf-8", nil),
        ("multipart/form-data; boundary=", nil),
        ("multipart/form-data; boundary=\"\"", nil),
        ("multipart/form-data; boundary=" + String(repeating: "x", count: 71), nil),
        ("multipart/form-data; boundary=\"ends with space \"", nil),
        ("multipart/form-data; boundary=\"unterminated", nil),
        ("multipart/form-data; boundary=\"a<b\"", nil),
        ("multipart/form-data; boundary=\"a\\\"b\"", nil),
        ("multipart/form-data; boundary=a b", nil),
    ]

    @Test(arguments: contentTypes)
    func boundary_isReadFromTheContentType(contentType: String, expected: String?) {
        #expect(Multipart.boundary(fromContentType: contentType) == expected)
    }
}
