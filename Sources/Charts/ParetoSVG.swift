/// A Pareto chart as horizontal bars, largest first, each labelled with its value and its share
/// of the total, so it reads without color and without a legend.
public enum ParetoSVG {
    public static func render(title: String, items: [(label: String, value: Double)], unit: String) -> String {
        let sorted = items.filter { $0.value > 0 }.sorted { $0.value > $1.value }
        let total = sorted.reduce(0) { $0 + $1.value }
        let rowHeight = 26.0, top = 34.0, left = 170.0, width = 800.0, right = 150.0
        let height = top + rowHeight * Double(max(1, sorted.count)) + 10
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 \(ControlChartSVG.number(height))" width="800" height="\(ControlChartSVG.number(height))" \
            font-family="sans-serif" font-size="12" role="img" aria-label="\(ControlChartSVG.escape(title))">
            <title>\(ControlChartSVG.escape(title))</title>
            <rect width="100%" height="100%" fill="#fff"/>
            <text x="10" y="20" font-size="14" font-weight="bold">\(ControlChartSVG.escape(title))</text>

            """
        guard let largest = sorted.first?.value, total > 0 else {
            return svg + "<text x=\"10\" y=\"52\">No losses in this window.</text>\n</svg>\n"
        }
        let barSpace = width - left - right
        for (index, item) in sorted.enumerated() {
            let y = top + rowHeight * Double(index)
            let barWidth = max(1, barSpace * item.value / largest)
            let share = Int((item.value / total * 100).rounded())
            svg += "<text x=\"\(ControlChartSVG.number(left - 8))\" y=\"\(ControlChartSVG.number(y + 17))\" text-anchor=\"end\">\(ControlChartSVG.escape(item.label))</text>\n"
            svg += "<rect class=\"bar\" x=\"\(ControlChartSVG.number(left))\" y=\"\(ControlChartSVG.number(y + 4))\" width=\"\(ControlChartSVG.number(barWidth))\" height=\"\(ControlChartSVG.number(rowHeight - 8))\" fill=\"#b35c00\"/>\n"
            svg += "<text x=\"\(ControlChartSVG.number(left + barWidth + 6))\" y=\"\(ControlChartSVG.number(y + 17))\">\(ControlChartSVG.significant(item.value)) \(ControlChartSVG.escape(unit)) · \(share) %</text>\n"
        }
        return svg + "</svg>\n"
    }
}
