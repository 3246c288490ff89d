/// Helpers for connection URLs as they appear in logs and error messages.
public enum PGURL {
    /// The URL with its password replaced by `***`, safe to print.
    ///
    /// `postgresql://mes:secret@db:5432/mes` becomes `postgresql://mes:***@db:5432/mes`;
    /// a `password=…` keyword in a libpq key/value string is masked the same way.
    public static func redacted(_ url: String) -> String {
        if let scheme = url.firstRange(of: "://") {
            let rest = url[scheme.upperBound...]
            guard let at = rest.firstIndex(of: "@") else { return url }
            let userInfo = rest[..<at]
            guard let colon = userInfo.firstIndex(of: ":") else { return url }
            return String(url[..<colon]) + ":***" + String(rest[at...])
        }
        return url.split(separator: " ", omittingEmptySubsequences: false).map { part in
            part.hasPrefix("password=") ? "password=***" : String(part)
        }.joined(separator: " ")
    }
}
