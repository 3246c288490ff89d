import FoundationEssentials
import Workers

/// The application's templates by name, parsed at load so a broken one stops the server at
/// boot rather than on the first request that needs it.
///
/// A template's name is its path under the folder without `.mustache`: `machine/tile`.
/// Partials (`{{>machine/tile}}`) and parents (`{{<layout}}`) are looked up here.
public final class TemplateLibrary: Sendable {
    private let sources: [String: String]
    private let parsed: [String: Template]
    /// Partials included standalone are indented line by line; each (name, indent) pair is
    /// parsed once, when first used.
    private let indented = Locked<[IndentedKey: Template]>([:])

    private struct IndentedKey: Hashable {
        let name: String
        let indent: String
    }

    /// Templates from sources keyed by name.
    public init(sources: [String: String]) throws(TemplateError) {
        var parsed: [String: Template] = [:]
        for (name, source) in sources {
            parsed[name] = try Template(source, name: name)
        }
        self.sources = sources
        self.parsed = parsed
    }

    /// Every `*.mustache` file under `directory`, in subfolders too.
    public convenience init(directory: String) throws {
        let root = URL(fileURLWithPath: directory, isDirectory: true)
        var sources: [String: String] = [:]
        for relative in try FileManager.default.subpathsOfDirectory(atPath: root.path) where relative.hasSuffix(".mustache") {
            let data = try Data(contentsOf: root.appendingPathComponent(relative))
            guard let text = String(data: data, encoding: .utf8) else {
                throw TemplateError(.badName, template: relative, "the file is not UTF-8")
            }
            sources[String(relative.dropLast(".mustache".count))] = text
        }
        try self.init(sources: sources)
    }

    /// The names of all templates, sorted.
    public var names: [String] { parsed.keys.sorted() }

    /// Renders the template `name`; an unknown name is an error (unlike a missing partial,
    /// which the specification renders as nothing).
    public func render(_ name: String, _ context: some TemplateRepresentable) throws(TemplateError) -> [UInt8] {
        guard let template = parsed[name] else {
            throw TemplateError(.unknownTemplate, template: name, "no template of this name in the library")
        }
        var output: [UInt8] = []
        output.reserveCapacity(4096)
        try template.render(context, into: &output, library: self)
        return output
    }

    /// The template `name` with `indent` before each of its lines (nil when there is none).
    func template(named name: String, indent: String) throws(TemplateError) -> Template? {
        if indent.isEmpty { return parsed[name] }
        guard let source = sources[name] else { return nil }
        let key = IndentedKey(name: name, indent: indent)
        if let template = indented.withLock({ $0[key] }) { return template }
        let template = try Template(Self.indent(source, by: indent), name: name)
        indented.withLock { $0[key] = template }
        return template
    }

    /// `source` with `indent` at the start of every line; no indent after a final newline.
    static func indent(_ source: String, by indent: String) -> String {
        var result = indent
        var characters = source.makeIterator()
        var next = characters.next()
        while let character = next {
            result.append(character)
            next = characters.next()
            if character == "\n" || character == "\r\n", next != nil { result += indent }
        }
        return source.isEmpty ? "" : result
    }
}
