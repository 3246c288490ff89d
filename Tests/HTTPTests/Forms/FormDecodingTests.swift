@testable import HTTP
import Testing

struct PercentEncodingTests {
    static let cases: [(String, Bool, String?)] = [
        ("plain", false, "plain"),
        ("caf%C3%A9", false, "café"),
        ("%E6%97%A5%E6%9C%AC", false, "日本"),
        ("a+b", false, "a+b"),
        ("a+b", true, "a b"),
        ("100%25", false, "100%"),
        ("%2Fslash", false, "/slash"),
        ("bad%", false, nil),
        ("bad%2", false, nil),
        ("bad%zz", false, nil),
        ("%C3", false, nil),  // a lone lead byte is not UTF-8
        ("%FF", false, nil),
    ]

    @Test(arguments: cases)
    func percentDecoding_followsRFC3986(input: String, plusAsSpace: Bool, expected: String?) {
        #expect(PercentEncoding.decode(input, plusAsSpace: plusAsSpace) == expected)
    }
}

struct QueryParametersTests {
    @Test func query_keepsOrderRepeatsAndEmptyValues() throws {
        let query = try QueryParameters.parse("machine=M1&machine=M%202&&shift=B&flag&note=caf%C3%A9+ok&empty=")
        #expect(query.items == [
            QueryItem(name: "machine", value: "M1"), QueryItem(name: "machine", value: "M 2"), QueryItem(name: "shift", value: "B"),
            QueryItem(name: "flag", value: ""), QueryItem(name: "note", value: "café ok"), QueryItem(name: "empty", value: ""),
        ])
        #expect(query["machine"] == "M1")
        #expect(query.all("machine") == ["M1", "M 2"])
        #expect(query["missing"] == nil)
    }

    @Test func query_badEscapeNamesThePair() {
        let error = #expect(throws: FormError.self) { try QueryParameters.parse("ok=1&bad=%zz") }
        #expect(error?.reason == "malformed percent-escape in 'bad=%zz'")
    }

    @Test func formBody_mustBeUTF8() throws {
        #expect(try QueryParameters.parse(formBody: Array("qty=3&reason=burr".utf8))["qty"] == "3")
        #expect(throws: FormError.self) { try QueryParameters.parse(formBody: [0x71, 0x3D, 0xFF]) }
    }
}

struct CookiesTests {
    @Test func cookies_areParsedPerRFC6265() {
        let cookies = Cookies.parse(["session=abc123; theme=\"dark\"; broken; =nameless; session=second", "csrf=x=y"])
        #expect(cookies == ["session": "abc123", "theme": "dark", "csrf": "x=y"])
    }

    @Test func setCookie_rendersSafeAttributesAndDropsForbiddenBytes() {
        #expect(SetCookie(name: "session", value: "abc", maxAge: 3600, secure: true).headerValue
            == "session=abc; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax")
        #expect(SetCookie(name: "x;y", value: "a b;c\r\nSet-Cookie: evil", httpOnly: false, sameSite: .strict).headerValue
            == "xy=abcSet-Cookie:evil; Path=/; SameSite=Strict")
        #expect(SetCookie(name: "t", value: "1", sameSite: .none).headerValue.contains("; Secure; SameSite=None"))
    }
}

struct MultipartTests {
    static let boundary = "----MESBoundary7MA4YWxk"
    static let photo: [UInt8] = [0xFF, 0xD8, 0x0D, 0x0A, 0x00, 0x2D, 0x2D, 0x2D, 0x2D, 0x4D, 0x45, 0x53, 0x0D, 0x0A, 0x2D, 0x2D, 0xFF, 0xD9]

    static var body: [UInt8] {
        var body = Array("preamble to ignore\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"reason\"\r\n\r\nBurr on édge\r\n".utf8)
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"scrap \\\"1\\\".jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
        body += photo
        body += Array("\r\n--\(boundary)--\r\nepilogue".utf8)
        return body
    }

    @Test func multipart_splitsFieldsAndBinaryFiles() throws {
        let parts = try Multipart.parse(body: Self.body, boundary: Self.boundary, limits: MultipartLimits(maxTotalBytes: 10_000))
        #expect(parts.count == 2)
        #expect(parts[0].name == "reason")
        #expect(parts[0].text == "Burr on édge")
        #expect(parts[0].filename == nil)
        #expect(parts[1].name == "photo")
        #expect(parts[1].filename == "scrap \"1\".jpg")
        #expect(parts[1].contentType == "image/jpeg")
        #expect(parts[1].body == Self.photo)
    }

    @Test func multipart_everyTruncatedBodyIsAnErrorNeverASuccess() {
        let body = Array(Self.body.prefix(Self.body.count - "--\r\nepilogue".utf8.count))
        for length in 0..<body.count {
            #expect(throws: FormError.self, "prefix \(length)") {
                try Multipart.parse(body: Array(body[0..<length]), boundary: Self.boundary, limits: MultipartLimits(maxTotalBytes: 10_000))
            }
        }
    }

    static let refusals: [(String, String, String)] = [
        ("no name", "--B\r\nContent-Disposition: form-data\r\n\r\nx\r\n--B--", "a part has no field name"),
        ("no disposition", "--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--", "a part has no Content-Disposition"),
        ("not form-data", "--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--B--", "a part is not form-data"),
        ("bad header line", "--B\r\nno colon here\r\n\r\nx\r\n--B--", "a part has a malformed header line"),
        ("no closing delimiter", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx", "the upload ends without its closing boundary"),
        ("no boundary at all", "just text", "the upload has no boundary line"),
    ]

    @Test(arguments: refusals)
    func multipart_refusesMalformedBodies(name: String, body: String, reason: String) {
        let error = #expect(throws: FormError.self, "\(name)") {
            try Multipart.parse(body: Array(body.utf8), boundary: "B", limits: MultipartLimits(maxTotalBytes: 10_000))
        }
        #expect(error?.reason == reason, "\(name)")
    }

    @Test func multipart_enforcesItsLimits() {
        let many = (0..<5).map { "--B\r\nContent-Disposition: form-data; name=\"f\($0)\"\r\n\r\nx\r\n" }.joined() + "--B--"
        #expect(throws: FormError("the upload has more than 3 parts")) {
            try Multipart.parse(body: Array(many.utf8), boundary: "B", limits: MultipartLimits(maxParts: 3, maxTotalBytes: 10_000))
        }
        let bigHeader = "--B\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: \(String(repeating: "p", count: 200))\r\n\r\nx\r\n--B--"
        #expect(throws: FormError("a part's headers are larger than 100 bytes")) {
            try Multipart.parse(body: Array(bigHeader.utf8), boundary: "B", limits: MultipartLimits(maxPartHeaderBytes: 100, maxTotalBytes: 10_000))
        }
        #expect(throws: FormError("the upload is larger than 10 bytes")) {
            try Multipart.parse(body: Array(many.utf8), boundary: "B", limits: MultipartLimits(maxTotalBytes: 10))
        }
    }

    @Test(arguments: [
        ("multipart/form-data; boundary=abc", "abc"),
        ("multipart/form-data; charset=utf-8; boundary=\"quoted boundary\"", "quoted boundary"),
        ("multipart/form-data", nil),
        ("multipart/form-data; boundary=", nil),
        ("multipart/form-data; boundary=" + String(repeating: "x", count: 71), nil),
    ] as [(String, String?)])
    func boundary_isReadFromTheContentType(contentType: String, expected: String?) {
        #expect(Multipart.boundary(fromContentType: contentType) == expected)
    }
}
