import HTTP
import Testing

/// RFC 3986 section 2.1 percent-decoding, with the form encoding's `+` as an option.
struct PercentDecodingTests {
    static let valid: [(input: String, plusAsSpace: Bool, expected: String)] = [
        ("", false, ""),
        ("plain", false, "plain"),
        ("caf%C3%A9", false, "café"),
        ("caf%c3%a9", false, "café"),
        ("%E6%97%A5%E6%9C%AC", false, "日本"),
        ("日本", false, "日本"),
        ("%41%42c", false, "ABc"),
        ("100%25", false, "100%"),
        ("%2Fslash", false, "/slash"),
        ("a%20b", false, "a b"),
        ("a+b", false, "a+b"),
        ("a+b", true, "a b"),
        ("%2B", true, "+"),
        ("++", true, "  "),
        ("%00", false, "\u{0}"),
        ("%F0%9F%8F%AD", false, "🏭"),
    ]

    @Test(arguments: valid)
    func percentDecoding_decodesEscapesAndPlus(input: String, plusAsSpace: Bool, expected: String) {
        #expect(PercentEncoding.decode(input, plusAsSpace: plusAsSpace) == expected)
    }

    @Test(arguments: ["%", "%2", "a%", "bad%2", "%zz", "%G0", "%0G", "%%41", "% 41", "%-1", "%+1", "ok%2Fthen%"])
    func percentDecoding_rejectsMalformedEscapes(input: String) {
        #expect(PercentEncoding.decode(input, plusAsSpace: false) == nil)
        #expect(PercentEncoding.decode(input, plusAsSpace: true) == nil)
    }

    @Test(arguments: [
        "%C3",  // a lone lead byte
        "%FF",  // never valid in UTF-8
        "%C3%28",  // a lead byte followed by ASCII
        "%E6%97",  // a truncated three-byte sequence
        "%ED%A0%80",  // an encoded UTF-16 surrogate
        "%C0%AF",  // an overlong "/"
        "%80",  // a lone continuation byte
        "%F8%88%80%80%80",  // a five-byte sequence
    ])
    func percentDecoding_rejectsBytesThatAreNotUTF8(input: String) {
        #expect(PercentEncoding.decode(input, plusAsSpace: false) == nil)
    }

    @Test func percentDecoding_decodesEveryASCIIByteWithEitherHexCase() {
        for byte in UInt8(0)..<0x80 {
            let upper = "%" + String(byte, radix: 16, uppercase: true).leftPadded
            let lower = "%" + String(byte, radix: 16, uppercase: false).leftPadded
            let expected = String(Character(Unicode.Scalar(byte)))
            #expect(PercentEncoding.decode(upper, plusAsSpace: false) == expected, "\(upper)")
            #expect(PercentEncoding.decode(lower, plusAsSpace: true) == expected, "\(lower)")
        }
    }

    @Test func percentDecoding_acceptsASubstring() {
        let target = "/machines/M%2001?x=1"
        let segment = target.split(separator: "/")[1].split(separator: "?")[0]
        #expect(PercentEncoding.decode(segment, plusAsSpace: false) == "M 01")
    }
}

private extension String {
    /// Two hex digits.
    var leftPadded: String { count == 1 ? "0" + self : self }
}
