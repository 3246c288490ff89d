import Markup

/// Walks parsed nodes over a context stack, writing UTF-8 bytes.
struct TemplateRenderer {
    /// Partials and parents nested deeper than this are refused (a template that includes
    /// itself on data that never ends).
    static let maximumDepth = 64

    let library: TemplateLibrary?
    var output: [UInt8] = []
    private var stack: [TemplateValue]
    /// Block overrides of the parents being rendered, outermost first.
    private var overrides: [[String: [TemplateNode]]] = []
    private var depth = 0

    init(library: TemplateLibrary?, context: TemplateValue) {
        self.library = library
        stack = [context]
    }

    mutating func render(_ nodes: [TemplateNode], template: String) throws(TemplateError) {
        for node in nodes {
            switch node {
            case .text(let bytes):
                output.append(contentsOf: bytes)
            case .variable(let path, let escaped):
                write(lookup(path) ?? .null, escaped: escaped)
            case .section(let path, let body, let inverted):
                let value = lookup(path) ?? .null
                if inverted {
                    if !value.isTruthy { try render(body, template: template) }
                } else if case .list(let items) = value {
                    for item in items {
                        stack.append(item)
                        try render(body, template: template)
                        stack.removeLast()
                    }
                } else if value.isTruthy {
                    stack.append(value)
                    try render(body, template: template)
                    stack.removeLast()
                }
            case .partial(let name, let indent):
                guard let partial = try library?.template(named: name, indent: indent) else { continue }
                try nested(partial, from: template)
            case .block(let name, let body):
                try render(overrides.lazy.compactMap { $0[name] }.first ?? body, template: template)
            case .parent(let name, let indent, let blocks):
                guard let parent = try library?.template(named: name, indent: indent) else { continue }
                overrides.append(blocks)
                defer { overrides.removeLast() }
                try nested(parent, from: template)
            }
        }
    }

    private mutating func nested(_ child: Template, from template: String) throws(TemplateError) {
        guard depth < Self.maximumDepth else {
            throw TemplateError(.tooDeep, template: template, "partials nested more than \(Self.maximumDepth) deep at {{>\(child.name)}}")
        }
        depth += 1
        defer { depth -= 1 }
        try render(child.nodes, template: child.name)
    }

    /// Mustache name resolution: the first name is looked for from the top of the stack down;
    /// the rest only inside what it found (a broken chain renders nothing).
    private func lookup(_ path: [String]) -> TemplateValue? {
        guard let first = path.first else { return stack.last }
        var found: TemplateValue?
        for frame in stack.reversed() {
            if let value = frame.member(first) {
                found = value
                break
            }
        }
        for key in path.dropFirst() {
            found = found?.member(key)
        }
        return found
    }

    private mutating func write(_ value: TemplateValue, escaped: Bool) {
        switch value {
        case .null:
            break
        case .bool(let flag):
            output.append(contentsOf: flag ? Array("true".utf8) : Array("false".utf8))
        case .int(let number):
            appendDecimal(number)
        case .double(let number):
            writeText(number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number), escaped: false)
        case .string(let text):
            writeText(text, escaped: escaped)
        case .list, .dictionary, .object:
            // A container has no text form; rendering it is a template bug best shown as nothing.
            break
        }
    }

    private mutating func writeText(_ text: String, escaped: Bool) {
        if escaped {
            Markup.appendEscaped(text, to: &output)
        } else {
            output.append(contentsOf: text.utf8)
        }
    }

    /// Decimal digits straight into the output, without a String per number.
    private mutating func appendDecimal(_ number: Int) {
        if number < 0 { output.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            output.append(contentsOf: buffer[(20 - count)...])
        }
    }
}
