/// A `Set-Cookie` header field (RFC 6265 section 4.1), HttpOnly and SameSite=Lax by default.
///
/// Rendering never fails: bytes a cookie may not carry are dropped (see ``headerValue``), so a
/// value taken from user input can neither end the field nor add attributes.
public struct SetCookie: Sendable, Equatable {
    /// The `SameSite` attribute (RFC 6265bis section 4.1.2.7).
    public enum SameSite: String, Sendable, Equatable {
        /// Sent on same-site requests and top-level cross-site navigations.
        case lax = "Lax"
        /// Sent on same-site requests only.
        case strict = "Strict"
        /// Sent on every request; browsers then require `Secure`, which ``SetCookie`` adds.
        case none = "None"
    }

    /// The cookie's name; bytes outside an RFC 6265 token are dropped when rendered.
    public var name: String
    /// The cookie's value; bytes outside RFC 6265 cookie-octets are dropped when rendered.
    public var value: String
    /// The `Path` attribute; `/` makes the cookie apply to the whole site.
    public var path: String
    /// Seconds the cookie lives (`Max-Age`); nil for a session cookie, 0 to delete it.
    /// A negative number is sent as 0.
    public var maxAge: Int?
    /// Whether scripts are denied access (`HttpOnly`).
    public var httpOnly: Bool
    /// Whether the cookie is only sent over HTTPS (`Secure`).
    public var secure: Bool
    /// The `SameSite` attribute.
    public var sameSite: SameSite

    /// Makes a cookie; the defaults suit a session cookie for the whole site.
    public init(
        name: String, value: String, path: String = "/", maxAge: Int? = nil,
        httpOnly: Bool = true, secure: Bool = false, sameSite: SameSite = .lax
    ) {
        self.name = name
        self.value = value
        self.path = path
        self.maxAge = maxAge
        self.httpOnly = httpOnly
        self.secure = secure
        self.sameSite = sameSite
    }

    /// The field value, e.g. `session=abc; Path=/; Max-Age=3600; HttpOnly; SameSite=Lax`.
    ///
    /// The name keeps only token characters, the value only cookie-octets (no controls,
    /// whitespace, `"`, `,`, `;`, `\` or non-ASCII), the path any ASCII but controls and `;`; a
    /// path left empty becomes `/`. `Secure` is added whenever `sameSite` is `.none`.
    public var headerValue: String {
        // RFC 6265 section 4.1.1: set-cookie-string = cookie-pair *( ";" SP cookie-av ).
        var text = Self.keeping(name, where: Self.isTokenByte) + "=" + Self.keeping(value, where: Self.isCookieOctet)
        let cleanPath = Self.keeping(path, where: Self.isPathByte)
        text += "; Path=" + (cleanPath.isEmpty ? "/" : cleanPath)
        if let maxAge {
            // RFC 6265 section 5.2.2: a Max-Age of zero or less expires the cookie at once.
            text += "; Max-Age=\(max(maxAge, 0))"
        }
        if httpOnly { text += "; HttpOnly" }
        if secure || sameSite == .none { text += "; Secure" }
        return text + "; SameSite=" + sameSite.rawValue
    }

    private static func keeping(_ text: String, where allowed: (UInt8) -> Bool) -> String {
        // Only ASCII bytes survive, so the result is valid UTF-8.
        String(decoding: text.utf8.filter(allowed), as: UTF8.self)
    }

    // RFC 6265 section 4.1.1: cookie-name = token (RFC 2616 section 2.2): CHAR except CTLs and
    // separators ( ) < > @ , ; : \ " / [ ] ? = { } SP HT.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        guard byte > 0x20, byte < 0x7F else { return false }
        return !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
    }

    // RFC 6265 section 4.1.1: cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
    private static func isCookieOctet(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x21, 0x23...0x2B, 0x2D...0x3A, 0x3C...0x5B, 0x5D...0x7E: true
        default: false
        }
    }

    // RFC 6265 section 4.1.1: path-value = <any CHAR except CTLs or ";">.
    private static func isPathByte(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: ";")
    }
}
