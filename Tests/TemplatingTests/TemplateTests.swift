import Testing
import Templating

/// One rendering case: template, data, expected output (partials optional).
struct RenderCase: CustomTestStringConvertible, Sendable {
    let rule: String
    let template: String
    let data: TemplateValue
    let expected: String
    var partials: [String: String] = [:]
    var testDescription: String { rule }
}

// Cases written for this project, one per rule of the Mustache specification v1.4
// (github.com/mustache/spec, specs/*.yml): interpolation, sections, inverted, comments,
// partials, delimiters and inheritance, with the standalone-line rule of specs/whitespace.md.
let renderCases: [RenderCase] = [
    // Interpolation
    RenderCase(rule: "text without tags is copied", template: "Line 2\n", data: [:], expected: "Line 2\n"),
    RenderCase(rule: "a variable is HTML-escaped", template: "<b>{{name}}</b>", data: ["name": "A&B <\"x\"> 'y'"],
               expected: "<b>A&amp;B &lt;&quot;x&quot;&gt; &#39;y&#39;</b>"),
    RenderCase(rule: "triple mustache is not escaped", template: "{{{svg}}}", data: ["svg": "<svg/>"], expected: "<svg/>"),
    RenderCase(rule: "ampersand is not escaped", template: "{{& svg }}", data: ["svg": "<svg/>"], expected: "<svg/>"),
    RenderCase(rule: "spaces inside a tag are ignored", template: "[{{  name  }}]", data: ["name": "M-01"], expected: "[M-01]"),
    RenderCase(rule: "integers and decimals", template: "{{a}} {{b}} {{c}} {{d}}", data: ["a": 42, "b": -7, "c": 1.210, "d": 3.0],
               expected: "42 -7 1.21 3"),
    RenderCase(rule: "the largest and smallest integers", template: "{{a}} {{b}}", data: ["a": .int(Int.max), "b": .int(Int.min)],
               expected: "9223372036854775807 -9223372036854775808"),
    RenderCase(rule: "a missing name renders nothing", template: "[{{missing}}]", data: [:], expected: "[]"),
    RenderCase(rule: "null renders nothing", template: "[{{n}}]", data: ["n": nil], expected: "[]"),
    RenderCase(rule: "booleans render as words", template: "{{t}}/{{f}}", data: ["t": true, "f": false], expected: "true/false"),
    RenderCase(rule: "dotted names walk into objects", template: "{{order.part.code}}", data: ["order": ["part": ["code": "P-7"]]],
               expected: "P-7"),
    RenderCase(rule: "a broken dotted chain renders nothing", template: "[{{order.nothing.code}}]", data: ["order": [:]], expected: "[]"),
    RenderCase(rule: "only the first part of a dotted name looks down the stack",
               template: "{{#a}}[{{b.c}}]{{/a}}", data: ["a": ["b": [:]], "b": ["c": "WRONG"]], expected: "[]"),
    RenderCase(rule: "the implicit iterator", template: "{{#codes}}{{.}},{{/codes}}", data: ["codes": ["A", "B&C"]], expected: "A,B&amp;C,"),
    RenderCase(rule: "interpolation keeps surrounding whitespace", template: "  {{name}}\n", data: ["name": "x"], expected: "  x\n"),
    RenderCase(rule: "unicode passes through", template: "{{line}} · {{shift}}", data: ["line": "Línea 2 — Mecanizado", "shift": "夜"],
               expected: "Línea 2 — Mecanizado · 夜"),

    // Sections
    RenderCase(rule: "a true section renders once", template: "{{#ok}}yes{{/ok}}", data: ["ok": true], expected: "yes"),
    RenderCase(rule: "a false section renders nothing", template: "{{#ok}}yes{{/ok}}", data: ["ok": false], expected: ""),
    RenderCase(rule: "a missing section renders nothing", template: "{{#ok}}yes{{/ok}}", data: [:], expected: ""),
    RenderCase(rule: "zero and the empty string are true", template: "{{#z}}z{{/z}}{{#e}}e{{/e}}", data: ["z": 0, "e": ""], expected: "ze"),
    RenderCase(rule: "a list renders once per item", template: "{{#m}}<{{code}}>{{/m}}", data: ["m": [["code": "1"], ["code": "2"]]],
               expected: "<1><2>"),
    RenderCase(rule: "an empty list renders nothing", template: "{{#m}}x{{/m}}", data: ["m": []], expected: ""),
    RenderCase(rule: "an object section pushes it", template: "{{#order}}{{number}} of {{line}}{{/order}}",
               data: ["order": ["number": "WO-1"], "line": "L2"], expected: "WO-1 of L2"),
    RenderCase(rule: "nested sections see outer names", template: "{{#a}}{{#b}}{{x}}{{y}}{{/b}}{{/a}}", data: ["a": ["x": 1], "b": true, "y": 2],
               expected: "12"),
    RenderCase(rule: "a dotted section name", template: "{{#a.b}}[{{c}}]{{/a.b}}", data: ["a": ["b": ["c": "deep"]]], expected: "[deep]"),
    RenderCase(rule: "a standalone section line disappears",
               template: "| This\n{{#b}}\n|\n{{/b}}\n| That\n", data: ["b": true], expected: "| This\n|\n| That\n"),
    RenderCase(rule: "an indented standalone section line disappears",
               template: "a\n  {{#b}}\n  x\n  {{/b}}  \nz", data: ["b": true], expected: "a\n  x\nz"),
    RenderCase(rule: "standalone lines with CRLF", template: "a\r\n{{#b}}\r\nx\r\n{{/b}}\r\nz", data: ["b": true], expected: "a\r\nx\r\nz"),
    RenderCase(rule: "a standalone tag on the last line without a newline", template: "x\n{{#b}}\n{{/b}}", data: ["b": true], expected: "x\n"),
    RenderCase(rule: "two tags on a line are not standalone", template: " {{#b}}{{/b}}\n", data: ["b": true], expected: " \n"),
    RenderCase(rule: "a section next to text is not standalone", template: "a {{#b}}\nx{{/b}} z", data: ["b": true], expected: "a \nx z"),

    // Inverted sections
    RenderCase(rule: "inverted renders on false", template: "{{^ok}}no{{/ok}}", data: ["ok": false], expected: "no"),
    RenderCase(rule: "inverted renders on an empty list", template: "{{^m}}none{{/m}}", data: ["m": []], expected: "none"),
    RenderCase(rule: "inverted renders on a missing name", template: "{{^m}}none{{/m}}", data: [:], expected: "none"),
    RenderCase(rule: "inverted renders nothing on true", template: "{{^ok}}no{{/ok}}", data: ["ok": true], expected: ""),
    RenderCase(rule: "inverted and normal together", template: "{{#m}}{{.}}{{/m}}{{^m}}-{{/m}}", data: ["m": []], expected: "-"),

    // Comments
    RenderCase(rule: "a comment renders nothing", template: "a{{! a note }}b", data: [:], expected: "ab"),
    RenderCase(rule: "a multi-line standalone comment disappears", template: "a\n{{!\n one\n two\n}}\nb", data: [:], expected: "a\nb"),

    // Delimiters
    RenderCase(rule: "set delimiters", template: "{{=<% %>=}}<% name %> {{name}}", data: ["name": "x"], expected: "x {{name}}"),
    RenderCase(rule: "set delimiters back", template: "{{=[ ]=}}[name][={{ }}=]{{name}}", data: ["name": "x"], expected: "xx"),
    RenderCase(rule: "a standalone set-delimiter line disappears", template: "a\n  {{=| |=}}\n|name|\n", data: ["name": "x"], expected: "a\nx\n"),
    RenderCase(rule: "sections with new delimiters", template: "{{=<% %>=}}<%#b%>[<%.%>]<%/b%>", data: ["b": [1, 2]], expected: "[1][2]"),

    // Partials
    RenderCase(rule: "a partial renders in the current context", template: "{{#m}}{{>tile}}{{/m}}", data: ["m": [["code": "1"], ["code": "2"]]],
               expected: "<1><2>", partials: ["tile": "<{{code}}>"]),
    RenderCase(rule: "a missing partial renders nothing", template: "[{{>nothing}}]", data: [:], expected: "[]"),
    RenderCase(rule: "a standalone partial is indented line by line",
               template: "<ul>\n  {{>items}}\n</ul>\n", data: ["v": "a\nb"], expected: "<ul>\n  <li>\n  a\nb\n  </li>\n</ul>\n",
               partials: ["items": "<li>\n{{{v}}}\n</li>\n"]),
    RenderCase(rule: "an inline partial is not indented", template: "x {{>p}}\n", data: [:], expected: "x 1\n2\n", partials: ["p": "1\n2"]),
    RenderCase(rule: "a recursive partial on finite data",
               template: "{{>node}}", data: ["name": "a", "children": [["name": "b", "children": []]]],
               expected: "a(b())", partials: ["node": "{{name}}({{#children}}{{>node}}{{/children}})"]),
    RenderCase(rule: "partials in subfolders", template: "{{>machine/tile}}", data: ["code": "M"], expected: "[M]",
               partials: ["machine/tile": "[{{code}}]"]),

    // Inheritance
    RenderCase(rule: "a parent with its default blocks", template: "{{<layout}}{{/layout}}", data: [:], expected: "<title>MES</title>|body",
               partials: ["layout": "<title>{{$title}}MES{{/title}}</title>|{{$body}}body{{/body}}"]),
    RenderCase(rule: "a parent with overridden blocks", template: "{{<layout}}{{$title}}Line {{n}}{{/title}}ignored{{/layout}}",
               data: ["n": 2], expected: "<title>Line 2</title>|body",
               partials: ["layout": "<title>{{$title}}MES{{/title}}</title>|{{$body}}body{{/body}}"]),
    RenderCase(rule: "standalone parent and block lines disappear",
               template: "{{<layout}}\n{{$body}}\n<p>hi</p>\n{{/body}}\n{{/layout}}\n", data: [:],
               expected: "<main>\n<p>hi</p>\n</main>\n", partials: ["layout": "<main>\n{{$body}}\n{{/body}}\n</main>\n"]),
    RenderCase(rule: "the outermost override wins",
               template: "{{<page}}{{$title}}outer{{/title}}{{/page}}", data: [:], expected: "[outer]",
               partials: ["page": "{{<layout}}{{$title}}inner{{/title}}{{/layout}}", "layout": "[{{$title}}default{{/title}}]"]),
    RenderCase(rule: "a block outside a parent renders its default", template: "{{$title}}MES{{/title}}", data: [:], expected: "MES"),
]

@Test(arguments: renderCases)
func template_rendersPerTheSpecification(_ example: RenderCase) throws {
    let library = try TemplateLibrary(sources: example.partials.merging(["main": example.template]) { _, main in main })
    let output = try library.render("main", example.data)
    #expect(String(decoding: output, as: UTF8.self) == example.expected)
}

/// A malformed template, the error code and the place it must be reported at.
struct ParseErrorCase: CustomTestStringConvertible, Sendable {
    let template: String
    let code: TemplateError.Code
    let line: Int
    let column: Int
    var testDescription: String { template }
}

let parseErrorCases: [ParseErrorCase] = [
    ParseErrorCase(template: "a\n  {{name", code: .unclosedTag, line: 2, column: 3),
    ParseErrorCase(template: "{{{raw}}", code: .unclosedTag, line: 1, column: 1),
    ParseErrorCase(template: "x\n{{#a}}\ny", code: .unclosedSection, line: 2, column: 1),
    ParseErrorCase(template: "{{#a}}{{/b}}", code: .mismatchedClose, line: 1, column: 7),
    ParseErrorCase(template: "ok\n\n{{/a}}", code: .mismatchedClose, line: 3, column: 1),
    ParseErrorCase(template: "{{=<%=}}", code: .badDelimiters, line: 1, column: 1),
    ParseErrorCase(template: "{{=a = b=}}", code: .badDelimiters, line: 1, column: 1),
    ParseErrorCase(template: "{{}}", code: .badName, line: 1, column: 1),
    ParseErrorCase(template: "{{a b}}", code: .badName, line: 1, column: 1),
    ParseErrorCase(template: "{{a..b}}", code: .badName, line: 1, column: 1),
    ParseErrorCase(template: "{{#}}{{/}}", code: .badName, line: 1, column: 1),
    ParseErrorCase(template: "{{>}}", code: .badName, line: 1, column: 1),
]

@Test(arguments: parseErrorCases)
func template_refusesMalformedSourceSayingWhere(_ example: ParseErrorCase) {
    #expect {
        try Template(example.template, name: "page")
    } throws: { error in
        guard let error = error as? TemplateError else { return false }
        return error.code == example.code && error.line == example.line && error.column == example.column
            && error.template == "page" && error.description.hasPrefix("page:\(example.line):\(example.column): ")
    }
}

@Test func template_parsesEveryPrefixOfAValidTemplateWithoutCrashing() {
    let source = "{{<layout}}{{$t}}x{{/t}}{{/layout}}\n{{#m}}\n  {{>p}}\n{{/m}}{{^m}}{{! c }}{{/m}}{{=<% %>=}}<%{raw}%><%& x %>"
    let scalars = Array(source.unicodeScalars)
    for end in 0...scalars.count {
        var prefix = ""
        prefix.unicodeScalars.append(contentsOf: scalars[..<end])
        _ = try? Template(prefix)
    }
    #expect(throws: Never.self) { try Template(source) }
}

@Test func template_refusesEndlessRecursion() {
    #expect(throws: TemplateError.self) {
        let library = try TemplateLibrary(sources: ["loop": "{{>loop}}"])
        _ = try library.render("loop", TemplateValue.dictionary([:]))
    }
}

@Test func library_refusesAnUnknownTemplateName() {
    #expect {
        _ = try TemplateLibrary(sources: [:]).render("page", TemplateValue.null)
    } throws: { error in
        (error as? TemplateError)?.code == .unknownTemplate
    }
}

@Test func library_reportsTheBrokenTemplateAtLoad() {
    #expect {
        _ = try TemplateLibrary(sources: ["good": "ok", "broken/tile": "{{#a}}"])
    } throws: { error in
        (error as? TemplateError)?.template == "broken/tile"
    }
}

/// A view model as the web app writes them: a struct answering for its keys.
struct MachineTile: TemplateObject {
    let code: String
    let state: String
    let minutes: Int
    subscript(templateKey key: String) -> TemplateValue? {
        switch key {
        case "code": .string(code)
        case "state": .string(state)
        case "minutes": .int(minutes)
        default: nil
        }
    }
}

@Test func template_rendersViewModelStructs_andLooksPastThemForOtherNames() throws {
    let template = try Template("{{#tiles}}<li class=\"{{state}}\">{{code}} {{minutes}} min, {{line}}</li>{{/tiles}}")
    let context: TemplateValue = ["line": "L2", "tiles": .list([.object(MachineTile(code: "M-01", state: "down", minutes: 12))])]
    #expect(try template.render(context) == "<li class=\"down\">M-01 12 min, L2</li>")
}

@Test func template_rendersSwiftValuesThroughTheirTemplateForm() throws {
    let template = try Template("{{#.}}{{.}};{{/.}}")
    #expect(try template.render(["a", "b"]) == "a;b;")
    #expect(try template.render([Int?.none, 3]) == ";3;")
}

@Test func template_mismatchedClose_namesBothTagsAndWhereTheSectionOpened() {
    #expect {
        try Template("{{#machines}}\n{{/tile}}", name: "line")
    } throws: { error in
        String(describing: error) == "line:2:1: {{/tile}} does not close {{#machines}} opened at 1:1"
    }
}
