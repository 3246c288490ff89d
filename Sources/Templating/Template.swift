/// A Mustache template, parsed once and rendered many times.
///
/// Implements the Mustache specification (github.com/mustache/spec, v1.4): variables (escaped
/// by default), `{{{raw}}}` and `{{&raw}}`, sections, inverted sections, comments, partials
/// with standalone indentation, set delimiters, and inheritance (`{{<parent}}` with
/// `{{$block}}` overrides). Lambdas are left out: templates see plain values only.
public struct Template: Sendable {
    /// The name errors and partial lookups use.
    public let name: String
    let nodes: [TemplateNode]

    /// Parses `source`; a malformed template is refused with its line and column.
    public init(_ source: String, name: String = "template") throws(TemplateError) {
        self.name = name
        var parser = TemplateParser(source: Array(source.utf8), name: name)
        nodes = try parser.parse()
    }

    /// Renders with `context` at the bottom of the stack. Partials and parents come from
    /// `library`; without one they render as nothing, as the specification says of a missing
    /// partial.
    public func render(_ context: some TemplateRepresentable, library: TemplateLibrary? = nil) throws(TemplateError) -> String {
        var output: [UInt8] = []
        try render(context, into: &output, library: library)
        return String(decoding: output, as: UTF8.self)
    }

    /// Renders as UTF-8 onto `output` (what an HTTP response body wants).
    public func render(_ context: some TemplateRepresentable, into output: inout [UInt8], library: TemplateLibrary? = nil) throws(TemplateError) {
        var renderer = TemplateRenderer(library: library, context: context.templateValue)
        swap(&renderer.output, &output)
        defer { swap(&renderer.output, &output) }
        try renderer.render(nodes, template: name)
    }
}

/// One piece of a parsed template.
indirect enum TemplateNode: Sendable {
    case text([UInt8])
    /// A name split at its dots; empty for `{{.}}`.
    case variable([String], escaped: Bool)
    case section([String], [TemplateNode], inverted: Bool)
    /// A partial; `indent` is the whitespace before a standalone partial tag, put before each
    /// of its lines.
    case partial(String, indent: String)
    /// `{{$name}}default{{/name}}`: replaced by the override of the closest enclosing parent
    /// tag that names it (the outermost one wins).
    case block(String, [TemplateNode])
    /// `{{<name}}…{{/name}}`: the template `name`, rendered with the blocks given inside.
    case parent(String, indent: String, overrides: [String: [TemplateNode]])
}
