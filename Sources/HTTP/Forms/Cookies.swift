/// Cookies sent by the browser (RFC 6265 sections 4.2.1 and 5.4).
public enum Cookies {
    /// `name=value; name2=value2` from every `Cookie` field. Pieces without `=` or with an
    /// empty name are skipped; one pair of double quotes around a value is removed; the first
    /// occurrence of a name wins (browsers send the most specific cookie first).
    public static func parse(_ headerValues: [String]) -> [String: String] {
        var cookies: [String: String] = [:]
        for header in headerValues {
            for piece in header.split(separator: ";") {
                guard let equals = piece.firstIndex(of: "=") else { continue }
                let name = String(piece[..<equals].trimmingSpaces)
                guard !name.isEmpty, cookies[name] == nil else { continue }
                var value = piece[piece.index(after: equals)...].trimmingSpaces
                if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                    value = value.dropFirst().dropLast()
                }
                cookies[name] = String(value)
            }
        }
        return cookies
    }
}

/// A `Set-Cookie` field (RFC 6265 section 4.1), secure by default where it costs nothing.
public struct SetCookie: Sendable, Equatable {
    public enum SameSite: String, Sendable {
        case lax = "Lax"
        case strict = "Strict"
        case none = "None"
    }

    public var name: String
    public var value: String
    public var path: String
    /// Seconds to keep the cookie; nil for a session cookie, 0 to delete it.
    public var maxAge: Int?
    public var httpOnly: Bool
    public var secure: Bool
    public var sameSite: SameSite

    public init(name: String, value: String, path: String = "/", maxAge: Int? = nil, httpOnly: Bool = true, secure: Bool = false, sameSite: SameSite = .lax) {
        self.name = name
        self.value = value
        self.path = path
        self.maxAge = maxAge
        self.httpOnly = httpOnly
        self.secure = secure
        self.sameSite = sameSite
    }

    /// The field value. Bytes a cookie may not contain (controls, whitespace, `"`, `,`, `;`,
    /// `\`, and for names also separators) are dropped rather than sent.
    public var headerValue: String {
        var text = "\(Self.clean(name, allowEquals: false))=\(Self.clean(value, allowEquals: true)); Path=\(Self.clean(path, allowEquals: true))"
        if let maxAge { text += "; Max-Age=\(maxAge)" }
        if httpOnly { text += "; HttpOnly" }
        if secure || sameSite == .none { text += "; Secure" }
        return text + "; SameSite=\(sameSite.rawValue)"
    }

    private static func clean(_ text: String, allowEquals: Bool) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.filter { scalar in
            guard scalar.value > 0x20, scalar.value < 0x7F else { return false }
            if "\";,\\".unicodeScalars.contains(scalar) { return false }
            return allowEquals || !"=()<>@:/[]?{}".unicodeScalars.contains(scalar)
        }))
    }
}
