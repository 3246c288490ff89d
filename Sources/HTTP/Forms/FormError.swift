/// Why a query string, form body, cookie or upload could not be decoded.
///
/// The server answers it as a 400 Bad Request with `reason` in the body, so a reason is short,
/// names the problem precisely and quotes at most ``FormError/excerptLimit`` bytes of the
/// client's input, with control and invisible formatting characters replaced by `?`.
public struct FormError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A short explanation that is safe to show to the user.
    public var reason: String

    /// Makes an error with the given user-facing reason.
    public init(_ reason: String) {
        self.reason = reason
    }

    /// The reason, unchanged.
    public var description: String { reason }

    /// The most bytes of client input a reason quotes.
    public static let excerptLimit = 40

    /// At most `excerptLimit` bytes of `text`, cut on a scalar boundary and followed by `…` when
    /// shortened; controls (C0, DEL, C1), line separators and format characters (bidi overrides,
    /// zero-width) become `?` so the quote cannot restyle or split the message.
    static func excerpt(_ text: some StringProtocol) -> String {
        var result = ""
        var bytes = 0
        for scalar in text.unicodeScalars {
            let shown = isShowable(scalar) ? scalar : "?"
            let size = UTF8.width(shown)
            guard bytes + size <= excerptLimit else { return result + "…" }
            result.unicodeScalars.append(shown)
            bytes += size
        }
        return result
    }

    private static func isShowable(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00..<0x20, 0x7F..<0xA0: return false
        case 0x20..<0x7F: return true
        default:
            switch scalar.properties.generalCategory {
            case .format, .lineSeparator, .paragraphSeparator, .control, .surrogate, .privateUse, .unassigned:
                return false
            default:
                return true
            }
        }
    }
}
