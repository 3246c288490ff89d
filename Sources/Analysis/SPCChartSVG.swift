import Charts

/// The SVG of an `mes spc` result: the same picture the web app shows.
public enum SPCChartSVG {
    static let titles = [
        "xbar": "X̄ (subgroup means)", "r": "R (subgroup ranges)", "s": "S (subgroup standard deviations)",
        "i": "Individuals", "mr": "Moving range", "p": "p (fraction nonconforming)", "np": "np (number nonconforming)",
        "c": "c (nonconformities)", "u": "u (nonconformities per unit)",
    ]

    public static func render(_ result: SPCAnalysis.Result) -> String {
        let panels = result.charts.map { series in
            ControlChartSVG.Panel(
                title: titles[series.name] ?? series.name, center: series.center,
                points: series.points.map { ControlChartSVG.Point(index: $0.index, value: $0.value, ucl: $0.ucl, lcl: $0.lcl, signals: $0.signals) },
                // Zone lines only where the zone rules apply: location charts with fixed limits.
                zones: ["xbar", "i", "c", "np"].contains(series.name))
        }
        return ControlChartSVG.render(title: "\(result.chart) control chart", panels: panels)
    }
}
