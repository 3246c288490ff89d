import Charts
import Domain
import Foundation
import HTTP
import Services
import Templating

/// The plant overview for managers: KPIs for today, this week or chosen days (OEE and its
/// three factors, WIP, scrap rate, schedule attainment), the loss Pareto, and the drill-down
/// by line and machine.
extension WebApp {
    static let overviewReaders: Set<String> = ["manager", "supervisor", "admin"]

    func registerPlant(_ routes: inout PageRoutes) throws {
        let app = self
        try page(&routes, "GET", "/plant/:site", roles: Self.overviewReaders) { page in
            let site = try page.parameter("site")
            guard let zoneName = try app.plant.sites().first(where: { $0.code == site })?.timeZone else {
                throw HTTPError(.notFound, "There is no site \(site).")
            }
            let query = try page.request.query()
            var (from, to, label) = try Self.window(query, zone: TimeZone(identifier: zoneName) ?? .gmt, now: Date())
            // Today's shifts, to narrow the window to one of them.
            let shifts = (try? app.production.shifts(site: site, from: from, to: max(to, from.addingTimeInterval(1)))) ?? []
            if let name = query["shift"], !name.isEmpty {
                guard let shift = shifts.first(where: { $0.name == name }) else {
                    throw HTTPError(.badRequest, "There is no shift \(name) in this window.")
                }
                (from, to, label) = (Date(timeIntervalSince1970: shift.start), min(Date(timeIntervalSince1970: shift.end), Date()), "\(label), shift \(name)")
                guard to > from else { throw HTTPError(.badRequest, "The shift \(name) has not started yet.") }
            }
            // A window that ends now is computed at most every few seconds per site and start:
            // many managers opening the overview cost one computation (the wall screen, not this
            // page, is the live view).
            let endsNow = to >= Date().addingTimeInterval(-1)
            // The whole page too: it is the same for every manager (the viewer's part aside).
            let key = endsNow ? "\(site)?\(page.request.rawQuery ?? "")" : nil
            return try app.renderShared("plant", key: key, cache: app.overviewPages, session: page.session, request: page.request) {
                let machines = endsNow
                    ? try app.liveCache.value("\(site) \(from.timeIntervalSince1970)") { try app.plant.oee(site: site, from: from, to: to) }
                    : try app.plant.oee(site: site, from: from, to: to)
                let states = Dictionary(uniqueKeysWithValues: try app.plant.machineStates(site: site).map { ($0.machine, $0) })
                var all = OEECalculator.Result.combining(machines.compactMap(\.result))
                // A part or an operator: the KPIs and losses of the time the machines worked on that
                // part, or with that operator signed to the operation (OEERollup's slices).
                var filter: TemplateValue = .null
                for (dimension, key) in [(RollupDimension.part, "part"), (.operator, "operator")] {
                    guard let wanted = query[key], !wanted.isEmpty else { continue }
                    let rollup = try app.plant.rollup(site: site, from: from, to: to, by: [dimension])
                    guard let row = rollup.rows.first(where: { $0.dimension == dimension && $0.key == wanted }) else {
                        throw HTTPError(.notFound, "No production of \(key) \(wanted) in this window.")
                    }
                    all = row.result
                    label += ", \(key) \(wanted)"
                    filter = ["dimension": .string(key), "key": .string(wanted)]
                }
                let parts = try app.plant.reported(site: site, from: from, to: to)
                let wip = try app.production.workInProcess(site: site).reduce(0) { $0 + $1.quantity }
                let days = try app.production.scheduleAttainment(site: site, from: from, to: to)
                let planned = days.reduce(0) { $0 + $1.planned }
                let produced = days.reduce(0) { $0 + $1.produced }
                func percent(_ value: Double, _ defined: Bool) -> TemplateValue { defined ? .string(String(format: "%.1f %%", value * 100)) : "–" }
                // The last seven site-local days and today, one roll-up each, for the trend lines.
                var calendar = Calendar(identifier: .gregorian)
                calendar.timeZone = TimeZone(identifier: zoneName) ?? .gmt
                let today = calendar.startOfDay(for: Date())
                let daily: [OEECalculator.Result?] = try (-7...0).map { offset in
                    guard let start = calendar.date(byAdding: .day, value: offset, to: today),
                        let end = calendar.date(byAdding: .day, value: 1, to: start) else { return nil }
                    // Past days are kept for ten minutes (late data is rare); today is always fresh.
                    let compute = {
                        let all = OEECalculator.Result.combining(try app.plant.oee(site: site, from: start, to: min(end, Date())).compactMap(\.result))
                        return all.plannedProductionSeconds > 0 ? all : nil
                    }
                    if offset == 0 && start == from && endsNow && query["part"] == nil && query["operator"] == nil && query["shift"] == nil {
                        // Today is the window itself: the same figures, not a second computation.
                        let today = OEECalculator.Result.combining(machines.compactMap(\.result))
                        return today.plannedProductionSeconds > 0 ? today : nil
                    }
                    return offset == 0 ? try compute() : try app.dayCache.value("\(site) \(start.timeIntervalSince1970)", compute)
                }
                func trend(_ name: String, _ value: (OEECalculator.Result) -> Double) -> TemplateValue {
                    .string(SparklineSVG.render(title: "\(name), last 7 days and today", values: daily.map { $0.map(value) },
                                                format: { String(format: "%.0f %%", $0 * 100) }))
                }
                let losses = all.losses.inUnits(of: 3_600)
                let pareto = ParetoSVG.render(title: "Losses (hours)", items: [
                    ("Breakdowns", losses.breakdowns), ("Setup", losses.setup), ("Idle", losses.idle), ("Small stops", losses.smallStops),
                    ("Speed", losses.speed), ("Rejects", losses.rejects), ("No data", losses.noData),
                ], unit: "h")
                var lines: [String: [PlantReadService.MachineOEE]] = [:]
                for machine in machines { lines[states[machine.machine]?.line ?? "(no line)", default: []].append(machine) }
                func row(_ name: String, _ result: OEECalculator.Result?, link: String?, flags: [String]) -> TemplateValue {
                    [
                        "name": .string(name), "link": link.map(TemplateValue.string) ?? .null,
                        "oee": percent(result?.oee ?? 0, (result?.plannedProductionSeconds ?? 0) > 0),
                        "availability": percent(result?.availability ?? 0, (result?.plannedProductionSeconds ?? 0) > 0),
                        "performance": percent(result?.performance ?? 0, (result?.runSeconds ?? 0) > 0),
                        "quality": percent(result?.quality ?? 0, (result?.totalCount ?? 0) > 0),
                        "counts": .string(result.map { "\($0.goodCount) / \($0.totalCount)" } ?? "–"),
                        "flags": .string(flags.joined(separator: "; ")),
                    ]
                }
                return [
                    "title": .string("Plant \(site)"), "site": .string(site), "label": .string(label),
                    "shifts": .list(Array(Set(shifts.map(\.name))).sorted().map { ["name": .string($0), "chosen": .bool($0 == query["shift"])] }),
                    "range": .string(query["range"] ?? "today"), "filter": filter,
                    "part": .string(query["part"] ?? ""), "operator": .string(query["operator"] ?? ""),
                    "from": .string(Self.day(from, zoneName)), "to": .string(Self.day(to.addingTimeInterval(-1), zoneName)),
                    "kpis": .list([
                        ["name": "OEE", "value": percent(all.oee, all.plannedProductionSeconds > 0), "trend": trend("OEE", \.oee)],
                        ["name": "Availability", "value": percent(all.availability, all.plannedProductionSeconds > 0), "trend": trend("Availability", \.availability)],
                        ["name": "Performance", "value": percent(all.performance, all.runSeconds > 0), "trend": trend("Performance", \.performance)],
                        ["name": "Quality", "value": percent(all.quality, all.totalCount > 0), "trend": trend("Quality", \.quality)],
                        ["name": "WIP", "value": .string("\(Self.number(wip)) parts")],
                        ["name": "Scrap rate", "value": percent(parts.scrap / max(1, parts.good + parts.scrap), parts.good + parts.scrap > 0)],
                        ["name": "Schedule attainment", "value": percent(produced / max(planned, 1e-9), planned > 0)],
                    ]),
                    "pareto": .string(pareto),
                    "lines": .list(lines.keys.sorted().map { line in
                        let members = lines[line] ?? []
                        return [
                            "total": row("Line \(line)", OEECalculator.Result.combining(members.compactMap(\.result)), link: nil, flags: []),
                            "machines": .list(members.map { m in
                                row(m.machine, m.result, link: "/machines/\(Self.percentEncoded(site))/\(Self.percentEncoded(m.machine))",
                                    flags: (m.result?.flags ?? []) + (m.error.map { [$0] } ?? []) + m.partsWithoutIdealCycle.map { "no ideal cycle for \($0)" })
                            }),
                        ]
                    }),
                ]
            }
        }
    }

    /// The window a query names: `range=today` (default) or `week` in the site's time zone, or
    /// `from` and `to` days (YYYY-MM-DD, `to` included).
    static func window(_ query: QueryParameters, zone: TimeZone, now: Date) throws -> (Date, Date, String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        calendar.firstWeekday = 2
        if let fromText = query["from"], let toText = query["to"], !fromText.isEmpty, !toText.isEmpty {
            let parser = DateFormatter()
            parser.locale = Locale(identifier: "en_US_POSIX")
            parser.timeZone = zone
            parser.dateFormat = "yyyy-MM-dd"
            guard let from = parser.date(from: fromText), let last = parser.date(from: toText), last >= from,
                let to = calendar.date(byAdding: .day, value: 1, to: last)
            else { throw HTTPError(.badRequest, "from and to must be days as YYYY-MM-DD, from not after to") }
            return (from, to, "\(fromText) to \(toText)")
        }
        switch query["range"] ?? "today" {
        case "today": return (calendar.startOfDay(for: now), now, "today")
        case "week":
            let start = calendar.dateInterval(of: .weekOfYear, for: now)?.start ?? calendar.startOfDay(for: now)
            return (start, now, "this week")
        case let other: throw HTTPError(.badRequest, "range must be today or week, not '\(other)'")
        }
    }

    static func day(_ date: Date, _ zone: String) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: zone)
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }
}
