import Charts
import Foundation
import Testing

/// SVG output is compared with files in Snapshots/; run with RECORD_SNAPSHOTS=1 to re-record
/// them on purpose after a deliberate change, then look at the new pictures before committing.
struct ControlChartSVGTests {
    static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    private func assertSnapshot(_ svg: String, named name: String) throws {
        let file = Self.snapshots.appendingPathComponent(name + ".svg")
        if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
            try svg.write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(svg == expected, "\(name).svg differs from its snapshot; RECORD_SNAPSHOTS=1 re-records it")
    }

    static let panel = ControlChartSVG.Panel(
        title: "Individuals", center: 10,
        points: [9.5, 10.4, 11.2, 13.4, 10.1, 8.8].enumerated().map { index, value in
            ControlChartSVG.Point(index: index + 1, value: value, ucl: 13, lcl: 7, signals: value > 13 ? ["N1"] : [])
        },
        zones: true)

    @Test func controlChart_matchesItsSnapshot() throws {
        try assertSnapshot(ControlChartSVG.render(title: "Bore <diameter> & run", panels: [Self.panel]), named: "individuals")
    }

    @Test func controlChart_marksSignalsAndEscapesText() {
        let svg = ControlChartSVG.render(title: "Bore <diameter> & run", panels: [Self.panel])
        #expect(svg.contains("Bore &lt;diameter&gt; &amp; run"))
        #expect(svg.components(separatedBy: "class=\"signal\"").count == 2, "exactly one signal point")
        #expect(svg.contains("<title>4: 13.4 — N1</title>"))
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
    }

    @Test func controlChart_drawsVaryingLimitsAsSteps() {
        let panel = ControlChartSVG.Panel(
            title: "p", center: 0.2,
            points: [(0.3, 0.40), (0.1, 0.35), (0.2, 0.45)].enumerated().map { ControlChartSVG.Point(index: $0.offset + 1, value: $0.element.0, ucl: $0.element.1, lcl: 0) },
            zones: false)
        let svg = ControlChartSVG.render(title: "p", panels: [panel])
        let ucl = svg.components(separatedBy: "class=\"ucl\" d=\"")[1].prefix { $0 != "\"" }
        #expect(ucl.components(separatedBy: "M").count == 4, "one step per point")
        #expect(!svg.contains("class=\"zone\""))
    }
}
