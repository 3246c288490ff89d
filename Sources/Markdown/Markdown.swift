import CCmark
import Glibc

/// CommonMark to HTML through libcmark, for work instructions, handover notes and
/// nonconformance text written by users.
///
/// Raw HTML in the source is never passed through: cmark 0.30 replaces it with
/// `<!-- raw HTML omitted -->` and empties `javascript:` and other unsafe link targets, because
/// `CMARK_OPT_UNSAFE` is never set here.
public enum Markdown {
    /// Rendering choices on top of the safe defaults.
    public struct Options: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }

        /// Turn straight quotes and `--` into typographic ones.
        public static let smart = Options(rawValue: CMARK_OPT_SMART)
        /// Render soft line breaks as `<br />`, as operators expect from a text box.
        public static let hardBreaks = Options(rawValue: CMARK_OPT_HARDBREAKS)
    }

    /// Renders `source` to an HTML fragment.
    public static func html(from source: String, options: Options = []) -> String {
        // CMARK_OPT_UNSAFE must never be set for user-written text.
        let flags = (options.rawValue | CMARK_OPT_DEFAULT) & ~CMARK_OPT_UNSAFE
        let rendered = source.withCString { pointer in
            cmark_markdown_to_html(pointer, strlen(pointer), flags)
        }
        guard let rendered else { return "" }
        defer { free(rendered) }
        return String(cString: rendered)
    }

    /// The linked libcmark's version, e.g. `0.30.2`.
    public static var libraryVersion: String { String(cString: cmark_version_string()) }
}
