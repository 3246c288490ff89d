import Markdown
import Testing

struct MarkdownTests {
    @Test func markdown_rendersCommonMark() {
        #expect(Markdown.html(from: "# Setup\n\nTighten **M8** bolts to *25 Nm*.") ==
            "<h1>Setup</h1>\n<p>Tighten <strong>M8</strong> bolts to <em>25 Nm</em>.</p>\n")
    }

    @Test(arguments: [
        ("<script>alert(1)</script>", "<script"),
        ("before <img src=x onerror=alert(1)> after", "onerror"),
        ("[click](javascript:alert(1))", "javascript:"),
    ])
    func markdown_neverPassesRawHTMLOrScriptLinks(source: String, forbidden: String) {
        let html = Markdown.html(from: source)
        #expect(!html.contains(forbidden), "\(html)")
    }

    @Test func markdown_keepsUnicodeIntact() {
        #expect(Markdown.html(from: "Drehmoment ≤ 25 Nm, Ø 12 mm") == "<p>Drehmoment ≤ 25 Nm, Ø 12 mm</p>\n")
    }

    @Test func markdown_hardBreaksOption_turnsNewlinesIntoBreaks() {
        #expect(Markdown.html(from: "line one\nline two", options: .hardBreaks) == "<p>line one<br />\nline two</p>\n")
    }

    @Test func markdown_reportsLinkedLibraryVersion() {
        #expect(Markdown.libraryVersion.split(separator: ".").count == 3)
    }
}
