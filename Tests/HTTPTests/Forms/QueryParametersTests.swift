import HTTP
import Testing

/// Query strings and `application/x-www-form-urlencoded` bodies.
struct QueryParameterParsingTests {
    static let valid: [(input: String, expected: [QueryItem])] = [
        ("", []),
        ("&&&", []),
        (
            "a=1&b=x+y&c=%C3%A9&flag&&d=",
            [
                QueryItem(name: "a", value: "1"), QueryItem(name: "b", value: "x y"), QueryItem(name: "c", value: "é"),
                QueryItem(name: "flag", value: ""), QueryItem(name: "d", value: ""),
            ]
        ),
        ("k=%E6%97%A5%E6%9C%AC", [QueryItem(name: "k", value: "日本")]),
        ("日本=語", [QueryItem(name: "日本", value: "語")]),
        ("a=b=c", [QueryItem(name: "a", value: "b=c")]),
        ("=x", [QueryItem(name: "", value: "x")]),
        ("a%20b=c%26d", [QueryItem(name: "a b", value: "c&d")]),
        ("x=%2B1&y=a%3Db", [QueryItem(name: "x", value: "+1"), QueryItem(name: "y", value: "a=b")]),
        ("m=1&m=2&m=1", [QueryItem(name: "m", value: "1"), QueryItem(name: "m", value: "2"), QueryItem(name: "m", value: "1")]),
        ("&lead&", [QueryItem(name: "lead", value: "")]),
    ]

    @Test(arguments: valid)
    func query_parsesPairsInOrder(input: String, expected: [QueryItem]) throws {
        #expect(try QueryParameters.parse(input) == QueryParameters(items: expected))
    }

    @Test func query_subscriptGivesTheFirstValueAndAllGivesEveryValue() throws {
        let query = try QueryParameters.parse("machine=M1&shift=B&machine=M%202&empty=")
        #expect(query["machine"] == "M1")
        #expect(query["shift"] == "B")
        #expect(query["empty"] == "")
        #expect(query["missing"] == nil)
        #expect(query.all("machine") == ["M1", "M 2"])
        #expect(query.all("missing") == [])
    }

    @Test func query_parsesASubstring() throws {
        let target = "/orders?line=L2&qty=3#top"
        let raw = target.split(separator: "?")[1].split(separator: "#")[0]
        #expect(try QueryParameters.parse(raw).items == [QueryItem(name: "line", value: "L2"), QueryItem(name: "qty", value: "3")])
    }

    static let refusals: [(input: String, reason: String)] = [
        ("ok=1&bad=%zz", "malformed percent-escape in 'bad=%zz'"),
        ("bad%2=1&ok=2", "malformed percent-escape in 'bad%2=1'"),
        ("%", "malformed percent-escape in '%'"),
        ("flag%", "malformed percent-escape in 'flag%'"),
        ("x=%C3&y=1", "percent-escapes in 'x=%C3' are not UTF-8"),
        ("n%FF=1", "percent-escapes in 'n%FF=1' are not UTF-8"),
        (
            "note=" + String(repeating: "a", count: 100) + "%",
            "malformed percent-escape in 'note=" + String(repeating: "a", count: 35) + "…'"
        ),
        (
            // 40 bytes is "x=" and 19 two-byte "é": the excerpt never splits a character.
            "x=" + String(repeating: "é", count: 30) + "%1",
            "malformed percent-escape in 'x=" + String(repeating: "é", count: 19) + "…'"
        ),
        ("a\r\nb\u{202E}c=%", "malformed percent-escape in 'a??b?c=%'"),
    ]

    @Test(arguments: refusals)
    func query_refusesBadEscapesQuotingAtMost40BytesOfThePair(input: String, reason: String) {
        #expect(throws: FormError(reason)) { try QueryParameters.parse(input) }
    }

    @Test func formBody_parsesUTF8Bytes() throws {
        let form = try QueryParameters.parse(formBody: Array("qty=3&reason=burr+on+%C3%A9dge&note=日本".utf8))
        #expect(form.items == [
            QueryItem(name: "qty", value: "3"), QueryItem(name: "reason", value: "burr on édge"), QueryItem(name: "note", value: "日本"),
        ])
    }

    @Test(arguments: [[0xFF], [0x71, 0x3D, 0xC3], [0x61, 0x3D, 0xC0, 0xAF], [0x61, 0x3D, 0xED, 0xA0, 0x80]] as [[UInt8]])
    func formBody_refusesBytesThatAreNotUTF8(body: [UInt8]) {
        #expect(throws: FormError("the form is not UTF-8")) { try QueryParameters.parse(formBody: body) }
    }

    @Test func formBody_refusesABadEscapeLikeAQuery() {
        #expect(throws: FormError("malformed percent-escape in 'qty=%3'")) { try QueryParameters.parse(formBody: Array("qty=%3".utf8)) }
    }

    @Test func formError_describesItselfWithItsReason() {
        #expect(FormError("the form is not UTF-8").description == "the form is not UTF-8")
        #expect(String(describing: FormError("x")) == "x")
    }
}
