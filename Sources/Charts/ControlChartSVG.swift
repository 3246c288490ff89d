import Markup

/// Draws control charts as SVG: one panel per chart (e.g. X̄ above R), sharing the x axis.
/// Pure string output, so a browser, a wall screen and a printed report show the same picture.
public enum ControlChartSVG {
    public struct Point: Sendable, Equatable {
        public var index: Int
        public var value: Double
        public var ucl: Double
        public var lcl: Double
        /// Rules broken at this point; non-empty points are drawn as signals.
        public var signals: [String]

        public init(index: Int, value: Double, ucl: Double, lcl: Double, signals: [String] = []) {
            self.index = index
            self.value = value
            self.ucl = ucl
            self.lcl = lcl
            self.signals = signals
        }
    }

    public struct Panel: Sendable, Equatable {
        public var title: String
        public var center: Double
        public var points: [Point]
        /// Draw the ±1σ and ±2σ zone lines (fixed limits only).
        public var zones: Bool

        public init(title: String, center: Double, points: [Point], zones: Bool) {
            self.title = title
            self.center = center
            self.points = points
            self.zones = zones
        }
    }

    static let width = 800.0
    static let panelHeight = 240.0
    static let left = 96.0
    static let right = 20.0
    static let top = 28.0
    static let bottom = 28.0

    public static func render(title: String, panels: [Panel]) -> String {
        let height = panelHeight * Double(max(1, panels.count)) + 30
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(number(width)) \(number(height))" \
            width="\(number(width))" height="\(number(height))" font-family="sans-serif" font-size="11" role="img" \
            aria-label="\(escape(title))">
            <title>\(escape(title))</title>
            <rect width="100%" height="100%" fill="#fff"/>
            <text x="\(number(left))" y="18" font-size="14" font-weight="bold">\(escape(title))</text>

            """
        for (index, panel) in panels.enumerated() {
            svg += renderPanel(panel, offset: 30 + panelHeight * Double(index))
        }
        return svg + "</svg>\n"
    }

    private static func renderPanel(_ panel: Panel, offset: Double) -> String {
        let points = panel.points
        let values = points.flatMap { [$0.value, $0.ucl, $0.lcl] } + [panel.center]
        var low = values.min() ?? 0
        var high = values.max() ?? 1
        if high - low < 1e-12 { (low, high) = (low - 1, high + 1) }
        let pad = (high - low) * 0.08
        (low, high) = (low - pad, high + pad)
        let plotTop = offset + top
        let plotHeight = panelHeight - top - bottom
        let plotWidth = width - left - right
        let count = max(points.count, 2)
        func x(_ position: Int) -> Double { left + plotWidth * Double(position) / Double(count - 1) }
        func y(_ value: Double) -> Double { plotTop + plotHeight * (high - value) / (high - low) }

        var svg = "<g class=\"panel\">\n"
        svg += "<text x=\"\(number(left))\" y=\"\(number(offset + 18))\" font-weight=\"bold\">\(escape(panel.title))</text>\n"
        svg += "<rect x=\"\(number(left))\" y=\"\(number(plotTop))\" width=\"\(number(plotWidth))\" height=\"\(number(plotHeight))\" fill=\"none\" stroke=\"#999\"/>\n"
        // Limits as step lines, so varying limits (p, u) show per point.
        func stepPath(_ value: (Point) -> Double) -> String {
            points.enumerated().map { position, point in
                let start = x(position) - (position == 0 ? 0 : plotWidth / Double(count - 1) / 2)
                let end = x(position) + (position == points.count - 1 ? 0 : plotWidth / Double(count - 1) / 2)
                return "M\(number(start)),\(number(y(value(point)))) H\(number(end))"
            }.joined(separator: " ")
        }
        if panel.zones, let first = points.first {
            let sigma = (first.ucl - panel.center) / 3
            for k in [-2.0, -1.0, 1.0, 2.0] {
                let level = y(panel.center + k * sigma)
                svg += "<line class=\"zone\" x1=\"\(number(left))\" x2=\"\(number(left + plotWidth))\" y1=\"\(number(level))\" y2=\"\(number(level))\" stroke=\"#ddd\" stroke-dasharray=\"2 3\"/>\n"
            }
        }
        svg += "<line class=\"center\" x1=\"\(number(left))\" x2=\"\(number(left + plotWidth))\" y1=\"\(number(y(panel.center)))\" y2=\"\(number(y(panel.center)))\" stroke=\"#2a7\"/>\n"
        if !points.isEmpty {
            svg += "<path class=\"ucl\" d=\"\(stepPath(\.ucl))\" stroke=\"#c33\" fill=\"none\" stroke-dasharray=\"6 3\"/>\n"
            svg += "<path class=\"lcl\" d=\"\(stepPath(\.lcl))\" stroke=\"#c33\" fill=\"none\" stroke-dasharray=\"6 3\"/>\n"
            let line = points.enumerated().map { "\(number(x($0.offset))),\(number(y($0.element.value)))" }.joined(separator: " ")
            svg += "<polyline class=\"values\" points=\"\(line)\" fill=\"none\" stroke=\"#357\"/>\n"
        }
        for label in [("UCL", points.last?.ucl), ("CL", panel.center), ("LCL", points.last?.lcl)] {
            guard let value = label.1 else { continue }
            svg += "<text x=\"\(number(left - 6))\" y=\"\(number(y(value) + 4))\" text-anchor=\"end\">\(label.0) \(significant(value))</text>\n"
        }
        for (position, point) in points.enumerated() {
            let flagged = !point.signals.isEmpty
            svg += "<circle cx=\"\(number(x(position)))\" cy=\"\(number(y(point.value)))\" r=\"\(flagged ? 4.5 : 2.5)\" "
            svg += "fill=\"\(flagged ? "#d22" : "#357")\"\(flagged ? " class=\"signal\"" : "")>"
            svg += "<title>\(point.index): \(significant(point.value))\(flagged ? " — " + escape(point.signals.joined(separator: ", ")) : "")</title></circle>\n"
        }
        let step = max(1, points.count / 10)
        for (position, point) in points.enumerated() where position % step == 0 || position == points.count - 1 {
            svg += "<text x=\"\(number(x(position)))\" y=\"\(number(plotTop + plotHeight + 16))\" text-anchor=\"middle\">\(point.index)</text>\n"
        }
        return svg + "</g>\n"
    }

    /// A coordinate with at most two decimals, without trailing zeros.
    static func number(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        if rounded == rounded.rounded() { return String(Int(rounded)) }
        var text = String(rounded)
        if let dot = text.firstIndex(of: "."), text.distance(from: dot, to: text.endIndex) > 3 {
            text = String(text[..<text.index(dot, offsetBy: 3)])
        }
        return text
    }

    /// A label value with four significant digits.
    static func significant(_ value: Double) -> String {
        guard value != 0, value.isFinite else { return value.isFinite ? "0" : String(value) }
        let magnitude = Int((log10Magnitude(abs(value))).rounded(.down))
        let decimals = max(0, 3 - magnitude)
        let scale = pow10(decimals)
        let rounded = (value * scale).rounded() / scale
        var text = String(rounded)
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    private static func log10Magnitude(_ value: Double) -> Double {
        var magnitude = 0.0
        var v = value
        while v >= 10 { v /= 10; magnitude += 1 }
        while v < 1 { v *= 10; magnitude -= 1 }
        return magnitude
    }

    private static func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<exponent { result *= 10 }
        return result
    }

    static func escape(_ text: String) -> String { Markup.escape(text) }
}
