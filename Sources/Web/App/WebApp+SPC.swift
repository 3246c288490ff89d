import Charts
import Domain
import Foundation
import HTTP
import Services
import Templating

/// The SPC pages: every characteristic with its points and open alarms, and one
/// characteristic's control chart (zones, limits, each signal marked and explained) with its
/// capability histogram against the specification.
extension WebApp {
    static let spcReaders: Set<String> = ["quality", "supervisor", "manager"]

    func registerSPC(_ routes: inout PageRoutes) throws {
        let app = self
        try page(&routes, "GET", "/spc", roles: Self.spcReaders) { page in
            let list = try app.quality.characteristicList()
            return try app.render("spc/index", [
                "title": "SPC", "has_characteristics": .bool(!list.isEmpty),
                "characteristics": .list(list.map {
                    ["id": .string(String($0.id)), "part": .string($0.part), "operation": .int($0.operation), "code": .string($0.code),
                     "name": .string($0.name), "points": .int($0.points), "alarms": .int($0.openAlarms), "alarmed": .bool($0.openAlarms > 0)]
                }),
            ], session: page.session, request: page.request)
        }
        try page(&routes, "GET", "/spc/:id", roles: Self.spcReaders) { page in
            let chart = try app.quality.chart(characteristicID: try page.id("id"))
            let spec = chart.spec
            let title = "\(spec.name) (\(spec.code)) · \(spec.part) operation \(spec.operationSequence)"
            var values: [String: TemplateValue] = [
                "title": .string(title), "heading": .string(title), "limits": .string(chart.limits), "unit": .string(spec.unit),
                "spec": .string("\(spec.lsl.map(Self.number) ?? "–") … \(spec.usl.map(Self.number) ?? "–") \(spec.unit)"),
                "rules": .string(spec.rules.map(\.rawValue).joined(separator: ", ")),
                "histogram": .string(HistogramSVG.render(title: "Capability: \(chart.values.count) values", values: chart.values, lsl: spec.lsl,
                                                         usl: spec.usl, nominal: spec.nominal)),
            ]
            if let location = chart.location {
                let dispersionName = spec.chart == .imr ? "Moving range" : spec.chart == .xbarR ? "Range" : "Standard deviation"
                var panels = [Self.panel(spec.chart == .imr ? "Individuals" : "Subgroup means", location)]
                if let dispersion = chart.dispersion { panels.append(Self.panel(dispersionName, dispersion)) }
                values["chart"] = .string(ControlChartSVG.render(title: title, panels: panels))
                var violations: [TemplateValue] = []
                for (series, name) in [(location, panels[0].title), (chart.dispersion, dispersionName)] {
                    for point in series?.points ?? [] where !point.signals.isEmpty {
                        let when = point.index - 1 < chart.measuredAt.count ? Self.clock(chart.measuredAt[point.index - 1]) : ""
                        violations.append([
                            "point": .int(point.index), "chart": .string(name), "value": .string(Self.number(point.value)), "when": .string(when),
                            "rules": .list(point.signals.rules.map { ["rule": .string($0.rawValue), "explanation": .string($0.explanation)] }),
                        ])
                    }
                }
                values["violations"] = .list(violations)
                values["has_violations"] = .bool(!violations.isEmpty)
            }
            if let capability = chart.capability {
                values["capability"] = [
                    "cp": .string(capability.cp.map { String(format: "%.2f", $0) } ?? "–"), "cpk": .string(String(format: "%.2f", capability.cpk)),
                    "pp": .string(capability.pp.map { String(format: "%.2f", $0) } ?? "–"), "ppk": .string(String(format: "%.2f", capability.ppk)),
                    "capable": .bool(capability.cpk >= 1.33),
                ]
            }
            return try app.render("spc/chart", values, session: page.session, request: page.request)
        }
    }

    static func panel(_ title: String, _ series: SPCSeries) -> ControlChartSVG.Panel {
        ControlChartSVG.Panel(
            title: title, center: series.center,
            points: series.points.map { ControlChartSVG.Point(index: $0.index, value: $0.value, ucl: $0.ucl, lcl: $0.lcl, signals: $0.signals.rules.map(\.rawValue)) },
            zones: true)
    }
}
