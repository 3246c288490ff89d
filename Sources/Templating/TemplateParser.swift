/// Turns Mustache source into nodes, applying the specification's standalone-line rule: a
/// section, inverted, close, comment, partial, parent, block or set-delimiter tag alone on its
/// line (only spaces or tabs around it) takes the whole line with it, newline included.
struct TemplateParser {
    private let source: [UInt8]
    private let name: String
    private var position = 0
    private var openDelimiter: [UInt8] = Array("{{".utf8)
    private var closeDelimiter: [UInt8] = Array("}}".utf8)

    init(source: [UInt8], name: String) {
        self.source = source
        self.name = name
    }

    /// An element whose close tag has not been reached yet.
    private struct OpenElement {
        enum Kind { case section, inverted, block, parent }
        let kind: Kind
        let sigil: Character
        let name: String
        let indent: String
        let offset: Int
        var nodes: [TemplateNode] = []
    }

    mutating func parse() throws(TemplateError) -> [TemplateNode] {
        var open: [OpenElement] = []
        var nodes: [TemplateNode] = []
        var text: [UInt8] = []

        func flushText() {
            if !text.isEmpty { nodes.append(.text(text)) }
            text.removeAll(keepingCapacity: true)
        }

        while position < source.count {
            guard let tagStart = find(openDelimiter, from: position) else {
                text.append(contentsOf: source[position...])
                position = source.count
                break
            }
            text.append(contentsOf: source[position..<tagStart])
            var cursor = tagStart + openDelimiter.count
            var sigil: UInt8 = 0
            if cursor < source.count, Self.sigils.contains(source[cursor]) {
                sigil = source[cursor]
                cursor += 1
            }
            let closing: [UInt8] =
                switch sigil {
                case UInt8(ascii: "{"): [UInt8(ascii: "}")] + closeDelimiter
                case UInt8(ascii: "="): [UInt8(ascii: "=")] + closeDelimiter
                default: closeDelimiter
                }
            guard let tagEnd = find(closing, from: cursor) else {
                throw error(.unclosedTag, at: tagStart, "tag opened here is never closed with \(String(decoding: closing, as: UTF8.self))")
            }
            let content = trimmed(String(decoding: source[cursor..<tagEnd], as: UTF8.self))
            position = tagEnd + closing.count

            var indent = ""
            if Self.lineTags.contains(sigil), let line = standaloneLine(tagStart: tagStart, tagEnd: position) {
                text.removeLast(tagStart - line.start)
                indent = String(decoding: source[line.start..<tagStart], as: UTF8.self)
                position = line.next
            }

            switch sigil {
            case UInt8(ascii: "!"):
                continue
            case UInt8(ascii: "="):
                let parts = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard parts.count == 2, !parts.contains(where: { $0.contains("=") }) else {
                    throw error(.badDelimiters, at: tagStart, "a set-delimiter tag needs two delimiters without '=' between {{= and =}}, got \"\(content)\"")
                }
                openDelimiter = Array(parts[0].utf8)
                closeDelimiter = Array(parts[1].utf8)
            case UInt8(ascii: "#"), UInt8(ascii: "^"), UInt8(ascii: "$"), UInt8(ascii: "<"):
                _ = try path(content, at: tagStart)
                flushText()
                let kind: OpenElement.Kind =
                    switch sigil {
                    case UInt8(ascii: "#"): .section
                    case UInt8(ascii: "^"): .inverted
                    case UInt8(ascii: "$"): .block
                    default: .parent
                    }
                open.append(OpenElement(kind: kind, sigil: Character(UnicodeScalar(sigil)), name: content, indent: indent, offset: tagStart, nodes: nodes))
                nodes = []
            case UInt8(ascii: "/"):
                guard var element = open.popLast() else {
                    throw error(.mismatchedClose, at: tagStart, "{{/\(content)}} closes nothing: no section is open")
                }
                guard element.name == content else {
                    throw error(.mismatchedClose, at: tagStart, "{{/\(content)}} does not close {{\(element.sigil)\(element.name)}} opened at \(place(element.offset))")
                }
                flushText()
                let children = nodes
                nodes = element.nodes
                element.nodes = []
                switch element.kind {
                case .section, .inverted:
                    nodes.append(.section(try path(element.name, at: element.offset), children, inverted: element.kind == .inverted))
                case .block:
                    nodes.append(.block(element.name, children))
                case .parent:
                    var overrides: [String: [TemplateNode]] = [:]
                    for case .block(let block, let body) in children { overrides[block] = body }
                    nodes.append(.parent(element.name, indent: element.indent, overrides: overrides))
                }
            case UInt8(ascii: ">"):
                guard !content.isEmpty else { throw error(.badName, at: tagStart, "a partial tag needs a template name") }
                flushText()
                nodes.append(.partial(content, indent: indent))
            default:
                flushText()
                let escaped = sigil != UInt8(ascii: "&") && sigil != UInt8(ascii: "{")
                nodes.append(.variable(try path(content, at: tagStart), escaped: escaped))
            }
        }
        if let element = open.last {
            throw error(.unclosedSection, at: element.offset, "{{\(element.sigil)\(element.name)}} is never closed with {{/\(element.name)}}")
        }
        flushText()
        return nodes
    }

    private static let sigils: Set<UInt8> = Set("#^/!>&={<$".utf8)
    /// Tags that can stand alone on a line; interpolation never does.
    private static let lineTags: Set<UInt8> = Set("#^/!>=<$".utf8)

    /// The line around a tag when nothing but spaces and tabs share it: where the line starts,
    /// and where the next line starts (or the end of the source).
    private func standaloneLine(tagStart: Int, tagEnd: Int) -> (start: Int, next: Int)? {
        var start = tagStart
        while start > 0, source[start - 1] != UInt8(ascii: "\n") {
            guard source[start - 1] == UInt8(ascii: " ") || source[start - 1] == UInt8(ascii: "\t") else { return nil }
            start -= 1
        }
        var next = tagEnd
        while next < source.count, source[next] == UInt8(ascii: " ") || source[next] == UInt8(ascii: "\t") { next += 1 }
        if next == source.count { return (start, next) }
        if source[next] == UInt8(ascii: "\n") { return (start, next + 1) }
        if source[next] == UInt8(ascii: "\r"), next + 1 < source.count, source[next + 1] == UInt8(ascii: "\n") { return (start, next + 2) }
        return nil
    }

    /// A variable or section name split at its dots (`.` alone is the current item).
    private func path(_ content: String, at offset: Int) throws(TemplateError) -> [String] {
        if content == "." { return [] }
        let parts = content.split(separator: ".", omittingEmptySubsequences: false)
        guard !content.isEmpty, !parts.contains(where: { $0.isEmpty || $0.contains(" ") || $0.contains("\t") }) else {
            throw error(.badName, at: offset, "\"\(content)\" is not a name (names are words joined by dots, without spaces)")
        }
        return parts.map(String.init)
    }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, source.count >= needle.count else { return nil }
        var index = start
        while index <= source.count - needle.count {
            if source[index] == first, source[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    private func trimmed(_ text: String) -> String {
        String(text.drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            .reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).reversed())
    }

    private func place(_ offset: Int) -> String {
        let (line, column) = lineAndColumn(offset)
        return "\(line):\(column)"
    }

    private func lineAndColumn(_ offset: Int) -> (Int, Int) {
        var line = 1
        var lineStart = 0
        for index in 0..<offset where source[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return (line, offset - lineStart + 1)
    }

    private func error(_ code: TemplateError.Code, at offset: Int, _ message: String) -> TemplateError {
        let (line, column) = lineAndColumn(offset)
        return TemplateError(code, template: name, line: line, column: column, message)
    }
}
