/// A capability histogram: the values in bins, with the specification limits and the nominal
/// as vertical lines, drawn on the server like the control charts.
public enum HistogramSVG {
    /// - Parameters:
    ///   - bins: how many bars (the square root of the count, within 5…30, when nil).
    public static func render(title: String, values: [Double], lsl: Double?, usl: Double?, nominal: Double?, bins: Int? = nil) -> String {
        let width = 800.0, height = 300.0, left = 60.0, right = 20.0, top = 36.0, bottom = 40.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 300" width="800" height="300" font-family="sans-serif" \
            font-size="11" role="img" aria-label="\(ControlChartSVG.escape(title))">
            <title>\(ControlChartSVG.escape(title))</title>
            <rect width="100%" height="100%" fill="#fff"/>
            <text x="\(ControlChartSVG.number(left))" y="20" font-size="14" font-weight="bold">\(ControlChartSVG.escape(title))</text>

            """
        let marks = [lsl, usl, nominal].compactMap { $0 }
        guard let lowest = (values + marks).min(), let highest = (values + marks).max(), !values.isEmpty else {
            return svg + "<text x=\"\(ControlChartSVG.number(left))\" y=\"60\">No values yet.</text>\n</svg>\n"
        }
        let count = bins ?? min(30, max(5, Int(Double(values.count).squareRoot().rounded())))
        var (low, high) = (lowest, highest)
        if high - low < 1e-12 { (low, high) = (low - 1, high + 1) }
        let pad = (high - low) * 0.05
        (low, high) = (low - pad, high + pad)
        let binWidth = (high - low) / Double(count)
        var counts = [Int](repeating: 0, count: count)
        for value in values { counts[min(count - 1, max(0, Int((value - low) / binWidth)))] += 1 }
        let tallest = Double(max(1, counts.max() ?? 1))
        func x(_ value: Double) -> Double { left + plotWidth * (value - low) / (high - low) }
        svg += "<rect x=\"\(ControlChartSVG.number(left))\" y=\"\(ControlChartSVG.number(top))\" width=\"\(ControlChartSVG.number(plotWidth))\" height=\"\(ControlChartSVG.number(plotHeight))\" fill=\"none\" stroke=\"#999\"/>\n"
        for (index, n) in counts.enumerated() where n > 0 {
            let barHeight = plotHeight * Double(n) / tallest
            let x0 = x(low + binWidth * Double(index))
            svg += "<rect class=\"bar\" x=\"\(ControlChartSVG.number(x0 + 1))\" y=\"\(ControlChartSVG.number(top + plotHeight - barHeight))\" "
                + "width=\"\(ControlChartSVG.number(max(1, plotWidth / Double(count) - 2)))\" height=\"\(ControlChartSVG.number(barHeight))\" fill=\"#6b8fb8\">"
                + "<title>\(n) values from \(ControlChartSVG.significant(low + binWidth * Double(index)))</title></rect>\n"
        }
        for (name, value, color) in [("LSL", lsl, "#cf222e"), ("USL", usl, "#cf222e"), ("nominal", nominal, "#1a7f37")] {
            guard let value else { continue }
            svg += "<line class=\"\(name.lowercased())\" x1=\"\(ControlChartSVG.number(x(value)))\" x2=\"\(ControlChartSVG.number(x(value)))\" y1=\"\(ControlChartSVG.number(top))\" "
                + "y2=\"\(ControlChartSVG.number(top + plotHeight))\" stroke=\"\(color)\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\n"
            svg += "<text x=\"\(ControlChartSVG.number(x(value) + 3))\" y=\"\(ControlChartSVG.number(top + 12))\" fill=\"\(color)\">\(name) \(ControlChartSVG.significant(value))</text>\n"
        }
        svg += "<text x=\"\(ControlChartSVG.number(left))\" y=\"\(ControlChartSVG.number(height - 12))\">\(ControlChartSVG.significant(low))</text>\n"
        svg += "<text x=\"\(ControlChartSVG.number(width - right))\" y=\"\(ControlChartSVG.number(height - 12))\" text-anchor=\"end\">\(ControlChartSVG.significant(high))</text>\n"
        return svg + "</svg>\n"
    }
}
