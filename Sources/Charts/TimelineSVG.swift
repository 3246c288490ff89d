/// A machine's states over a window as one band (a Gantt row): each stretch drawn in its
/// state's color with its name in a tooltip, and a legend that names every color used, so the
/// band reads without relying on color alone.
public enum TimelineSVG {
    public struct Stretch: Sendable, Equatable {
        public var start: Double
        public var end: Double
        public var state: String
        public var label: String

        public init(start: Double, end: Double, state: String, label: String) {
            self.start = start
            self.end = end
            self.state = state
            self.label = label
        }
    }

    /// Colors of the machine states; anything else is grey.
    static let colors = [
        "running": "#1a7f37", "idle": "#9a6700", "unplanned_stop": "#cf222e", "setup": "#0969da", "planned_stop": "#6e7781", "offline": "#3d444d",
    ]
    static let names = [
        "running": "Running", "idle": "Idle", "unplanned_stop": "Down", "setup": "Setup", "planned_stop": "Planned stop", "offline": "Offline",
    ]

    /// - Parameters:
    ///   - start, end: the window, in seconds since 1970.
    ///   - ticks: (position, label) pairs for the time axis.
    public static func render(title: String, start: Double, end: Double, stretches: [Stretch], ticks: [(Double, String)]) -> String {
        let width = 800.0, left = 10.0, right = 10.0, bandTop = 34.0, bandHeight = 40.0
        let plot = width - left - right
        func x(_ t: Double) -> Double { left + plot * (min(max(t, start), end) - start) / max(end - start, 1) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 130" width="800" height="130" font-family="sans-serif" font-size="11" \
            role="img" aria-label="\(ControlChartSVG.escape(title))">
            <title>\(ControlChartSVG.escape(title))</title>
            <rect width="100%" height="100%" fill="#fff"/>
            <text x="10" y="20" font-size="14" font-weight="bold">\(ControlChartSVG.escape(title))</text>
            <rect x="\(ControlChartSVG.number(left))" y="\(ControlChartSVG.number(bandTop))" width="\(ControlChartSVG.number(plot))" height="\(ControlChartSVG.number(bandHeight))" fill="#eaeef2"/>

            """
        var used: [String] = []
        for stretch in stretches where stretch.end > start && stretch.start < end {
            if !used.contains(stretch.state) { used.append(stretch.state) }
            let x0 = x(stretch.start), x1 = x(stretch.end)
            svg += "<rect class=\"state-\(ControlChartSVG.escape(stretch.state))\" x=\"\(ControlChartSVG.number(x0))\" y=\"\(ControlChartSVG.number(bandTop))\" "
                + "width=\"\(ControlChartSVG.number(max(0.5, x1 - x0)))\" height=\"\(ControlChartSVG.number(bandHeight))\" fill=\"\(colors[stretch.state] ?? "#8c959f")\">"
                + "<title>\(ControlChartSVG.escape(stretch.label))</title></rect>\n"
        }
        for (t, label) in ticks {
            svg += "<line x1=\"\(ControlChartSVG.number(x(t)))\" x2=\"\(ControlChartSVG.number(x(t)))\" y1=\"\(ControlChartSVG.number(bandTop + bandHeight))\" "
                + "y2=\"\(ControlChartSVG.number(bandTop + bandHeight + 5))\" stroke=\"#57606a\"/>"
                + "<text x=\"\(ControlChartSVG.number(x(t)))\" y=\"\(ControlChartSVG.number(bandTop + bandHeight + 17))\" text-anchor=\"middle\">\(ControlChartSVG.escape(label))</text>\n"
        }
        var legendX = left
        for state in used {
            let name = names[state] ?? state
            svg += "<rect x=\"\(ControlChartSVG.number(legendX))\" y=\"105\" width=\"12\" height=\"12\" fill=\"\(colors[state] ?? "#8c959f")\"/>"
                + "<text x=\"\(ControlChartSVG.number(legendX + 16))\" y=\"115\">\(ControlChartSVG.escape(name))</text>\n"
            legendX += 30 + Double(name.count) * 7
        }
        return svg + "</svg>\n"
    }
}
