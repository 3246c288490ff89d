import HTTP
import Testing

/// `Cookie` parsing and `Set-Cookie` rendering (RFC 6265).
struct CookieHeaderTests {
    static let cookieHeaders: [(headers: [String], expected: [String: String])] = [
        ([], [:]),
        ([""], [:]),
        ([";;; ;"], [:]),
        (["session=abc123"], ["session": "abc123"]),
        (["a=1; b=2"], ["a": "1", "b": "2"]),
        (["a=1;b=2"], ["a": "1", "b": "2"]),
        (["a=1", "b=2"], ["a": "1", "b": "2"]),
        (["  a = 1 ;\tb=2\t "], ["a": "1", "b": "2"]),
        (["theme=\"dark\""], ["theme": "dark"]),
        (["q=\"\""], ["q": ""]),
        (["q=\""], ["q": "\""]),
        (["q=\"\"x\"\""], ["q": "\"x\""]),
        (["q=\"open"], ["q": "\"open"]),
        (["broken; =nameless; ok=1"], ["ok": "1"]),
        (["a=1; a=2", "a=3"], ["a": "1"]),
        (["csrf=x=y"], ["csrf": "x=y"]),
        (["empty="], ["empty": ""]),
        (["name=café; 日本=値"], ["name": "café", "日本": "値"]),
        (["pct=a%20b"], ["pct": "a%20b"]),
    ]

    @Test(arguments: cookieHeaders)
    func cookies_areParsedFromEveryHeaderValue(headers: [String], expected: [String: String]) {
        #expect(Cookies.parse(headers) == expected)
    }

    static let rendered: [(cookie: SetCookie, expected: String)] = [
        (SetCookie(name: "session", value: "abc"), "session=abc; Path=/; HttpOnly; SameSite=Lax"),
        (
            SetCookie(name: "session", value: "abc", maxAge: 3600, secure: true),
            "session=abc; Path=/; Max-Age=3600; HttpOnly; Secure; SameSite=Lax"
        ),
        (SetCookie(name: "session", value: "", maxAge: 0), "session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
        (SetCookie(name: "session", value: "x", maxAge: -5), "session=x; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"),
        (
            SetCookie(name: "pref", value: "b", path: "/admin", httpOnly: false, sameSite: .strict),
            "pref=b; Path=/admin; SameSite=Strict"
        ),
        (SetCookie(name: "t", value: "1", sameSite: .none), "t=1; Path=/; HttpOnly; Secure; SameSite=None"),
        (SetCookie(name: "t", value: "1", secure: true, sameSite: .none), "t=1; Path=/; HttpOnly; Secure; SameSite=None"),
    ]

    @Test(arguments: rendered)
    func setCookie_rendersItsAttributes(cookie: SetCookie, expected: String) {
        #expect(cookie.headerValue == expected)
    }

    static let sanitised: [(cookie: SetCookie, expected: String)] = [
        (
            SetCookie(name: "x;y", value: "a b;c\r\nSet-Cookie: evil", httpOnly: false, sameSite: .strict),
            "xy=abcSet-Cookie:evil; Path=/; SameSite=Strict"
        ),
        (
            SetCookie(name: "a(b)c d=e", value: "q\"u,o\\t\te\u{0}\u{7F}é!", httpOnly: false),
            "abcde=quote!; Path=/; SameSite=Lax"
        ),
        (SetCookie(name: "日本id", value: "v", httpOnly: false), "id=v; Path=/; SameSite=Lax"),
        (SetCookie(name: "p", value: "v", path: "/a;b\r\n/c d", httpOnly: false), "p=v; Path=/ab/c d; SameSite=Lax"),
        (SetCookie(name: "p", value: "v", path: ";\u{1}", httpOnly: false), "p=v; Path=/; SameSite=Lax"),
    ]

    @Test(arguments: sanitised)
    func setCookie_dropsBytesNotAllowedInACookie(cookie: SetCookie, expected: String) {
        #expect(cookie.headerValue == expected)
    }

    @Test(arguments: ["abc123", "a=b", "x:y/z", "0123456789-_.~!#$%&'()*+/:<=>?@[]^`{|}"])
    func setCookie_roundTripsThroughCookieParsing(value: String) {
        let field = SetCookie(name: "session", value: value).headerValue
        let pair = String(field.split(separator: ";")[0])
        #expect(Cookies.parse([pair]) == ["session": value])
    }
}
