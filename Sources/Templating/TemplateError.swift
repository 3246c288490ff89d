/// A template that cannot be parsed or rendered, with where: `page:12:5: … `.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// A tag opened and never closed (`{{name` to the end of the file).
        case unclosedTag
        /// `{{#name}}` with no `{{/name}}`.
        case unclosedSection
        /// `{{/name}}` where another section, or none, is open.
        case mismatchedClose
        /// `{{=…=}}` that does not give two delimiters.
        case badDelimiters
        /// A tag with no name, or a name with spaces in it.
        case badName
        /// A template named for rendering that the library does not have.
        case unknownTemplate
        /// Partials or parents nested deeper than the limit (a template that includes itself
        /// without end).
        case tooDeep
    }

    public let code: Code
    /// The template's name (its path under `Templates/` without the extension).
    public let template: String
    /// 1-based line and column of the offending tag; 0 when the error has no place.
    public let line: Int
    public let column: Int
    public let message: String

    public init(_ code: Code, template: String, line: Int = 0, column: Int = 0, _ message: String) {
        self.code = code
        self.template = template
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        line > 0 ? "\(template):\(line):\(column): \(message)" : "\(template): \(message)"
    }
}
