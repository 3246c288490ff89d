/// A small trend line for a KPI header: one point per period, gaps where there is no value,
/// the last value labelled, so the direction reads at a glance.
public enum SparklineSVG {
    public static func render(title: String, values: [Double?], format: (Double) -> String) -> String {
        let width = 160.0, height = 36.0, pad = 4.0
        let known = values.compactMap { $0 }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 160 36" width="160" height="36" role="img" aria-label="\(ControlChartSVG.escape(title))">\
            <title>\(ControlChartSVG.escape(title))</title>
            """
        guard let low = known.min(), let high = known.max(), values.count > 1 else { return svg + "</svg>" }
        let span = max(high - low, 1e-9)
        func x(_ i: Int) -> Double { pad + (width - 2 * pad - 40) * Double(i) / Double(values.count - 1) }
        func y(_ v: Double) -> Double { height - pad - (height - 2 * pad) * (v - low) / span }
        var path = ""
        var pen = false
        for (i, value) in values.enumerated() {
            guard let value else { pen = false; continue }
            path += (pen ? " L" : " M") + "\(ControlChartSVG.number(x(i))) \(ControlChartSVG.number(y(value)))"
            pen = true
        }
        svg += "<path d=\"\(path.dropFirst())\" fill=\"none\" stroke=\"#0b5cad\" stroke-width=\"2\"/>"
        if let lastIndex = values.lastIndex(where: { $0 != nil }), let last = values[lastIndex] {
            svg += "<circle cx=\"\(ControlChartSVG.number(x(lastIndex)))\" cy=\"\(ControlChartSVG.number(y(last)))\" r=\"3\" fill=\"#0b5cad\"/>"
                + "<text x=\"\(ControlChartSVG.number(width - 38))\" y=\"22\" font-family=\"sans-serif\" font-size=\"11\">\(ControlChartSVG.escape(format(last)))</text>"
        }
        return svg + "</svg>"
    }
}
