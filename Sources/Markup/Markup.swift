/// Escaping for HTML and XML (SVG) text and attribute values.
public enum Markup {
    /// Replaces `&`, `<`, `>`, `"` and `'` with entities, so text can never open a tag or leave
    /// an attribute, whatever it contains.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }
}
