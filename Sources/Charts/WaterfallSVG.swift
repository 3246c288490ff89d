/// An OEE waterfall: from planned production time, each loss taken away in turn down to the
/// fully productive time; every bar labelled with its hours.
public enum WaterfallSVG {
    public struct Step: Sendable, Equatable {
        public var label: String
        public var value: Double
        /// A total (drawn from zero) rather than a loss (drawn hanging from the previous total).
        public var isTotal: Bool

        public init(label: String, value: Double, isTotal: Bool) {
            self.label = label
            self.value = value
            self.isTotal = isTotal
        }
    }

    public static func render(title: String, steps: [Step], unit: String) -> String {
        let width = 800.0, height = 300.0, left = 20.0, top = 36.0, bottom = 56.0
        let plotHeight = height - top - bottom
        let slot = (width - 2 * left) / Double(max(1, steps.count))
        let highest = max(steps.map(\.value).max() ?? 1, 1e-9)
        func y(_ value: Double) -> Double { top + plotHeight * (1 - value / highest) }
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 300" width="800" height="300" font-family="sans-serif" font-size="11" \
            role="img" aria-label="\(ControlChartSVG.escape(title))">
            <title>\(ControlChartSVG.escape(title))</title>
            <rect width="100%" height="100%" fill="#fff"/>
            <text x="20" y="20" font-size="14" font-weight="bold">\(ControlChartSVG.escape(title))</text>

            """
        var level = 0.0
        for (index, step) in steps.enumerated() {
            let (lowValue, highValue) = step.isTotal ? (0.0, step.value) : (level - step.value, level)
            if step.isTotal { level = step.value } else { level -= step.value }
            let x = left + slot * Double(index) + 6
            let color = step.isTotal ? "#0b5cad" : "#cf222e"
            svg += "<rect class=\"\(step.isTotal ? "total" : "loss")\" x=\"\(ControlChartSVG.number(x))\" y=\"\(ControlChartSVG.number(y(highValue)))\" "
                + "width=\"\(ControlChartSVG.number(slot - 12))\" height=\"\(ControlChartSVG.number(max(0.5, y(lowValue) - y(highValue))))\" fill=\"\(color)\"/>\n"
            svg += "<text x=\"\(ControlChartSVG.number(x + (slot - 12) / 2))\" y=\"\(ControlChartSVG.number(y(highValue) - 4))\" text-anchor=\"middle\">"
                + "\(step.isTotal || step.value == 0 ? "" : "−")\(ControlChartSVG.significant(step.value)) \(ControlChartSVG.escape(unit))</text>\n"
            svg += "<text x=\"\(ControlChartSVG.number(x + (slot - 12) / 2))\" y=\"\(ControlChartSVG.number(height - bottom + 16))\" text-anchor=\"middle\">\(ControlChartSVG.escape(step.label))</text>\n"
        }
        return svg + "</svg>\n"
    }
}
