import Charts
import Domain
import Foundation
import HTTP
import Services
import Templating

/// A machine's page: its states over the current shift as a Gantt band, the OEE waterfall of
/// its losses, the downtime Pareto, counts, the current and next work orders, and the stops
/// without a reason, to classify or split.
extension WebApp {
    func registerMachine(_ routes: inout PageRoutes) throws {
        let app = self
        try page(&routes, "GET", "/machines/:site/:machine", roles: Self.everyone) { page in
            try app.machineDetail(page, site: try page.parameter("site"), machine: try page.parameter("machine"))
        }
        try page(&routes, "POST", "/machines/:site/:machine/stops/:id/classify", roles: Self.floor) { page in
            let back = "/machines/\(Self.percentEncoded(try page.parameter("site")))/\(Self.percentEncoded(try page.parameter("machine")))"
            do {
                try MachineDataService(pool: app.pool).classify(intervalID: try page.id("id"), reason: page.form["reason"] ?? "", by: page.session.username)
            } catch let error as MachineDataError {
                throw ProductionRuleError(.invalidInput, error.message)
            }
            return Self.done(Self.localPath(page.form["back"] ?? back), notice: "The stop is classified.")
        }
        try page(&routes, "POST", "/machines/:site/:machine/stops/:id/split", roles: Self.floor) { page in
            let back = "/machines/\(Self.percentEncoded(try page.parameter("site")))/\(Self.percentEncoded(try page.parameter("machine")))"
            let text = try page.form.required("at", "the time to split at")
            guard let at = try? Date(text, strategy: .iso8601) else {
                throw ProductionRuleError(.invalidInput, "the time must be an RFC 3339 time such as 2026-11-23T10:15:00Z, not '\(text)'")
            }
            do {
                try MachineDataService(pool: app.pool).split(intervalID: try page.id("id"), at: at, by: page.session.username)
            } catch let error as MachineDataError {
                throw ProductionRuleError(.invalidInput, error.message)
            }
            return Self.done(Self.localPath(page.form["back"] ?? back), notice: "The stop is split in two; classify each part.")
        }
    }

    func machineDetail(_ page: PageRequest, site: String, machine: String) throws -> HTTPResponse {
        let now = Date()
        let shift = try? production.shift(site: site, at: now)
        let zone = try plant.sites().first { $0.code == site }?.timeZone ?? "UTC"
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone) ?? .gmt
        let from = shift.map { Date(timeIntervalSince1970: $0.start) } ?? calendar.startOfDay(for: now)
        let end = shift.map { Date(timeIntervalSince1970: $0.end) } ?? (calendar.date(byAdding: .day, value: 1, to: from) ?? now)
        let window = shift.map { "shift \($0.name), \(Self.clock(from)) to \(Self.clock(end))" } ?? "today, \(Self.day(from, zone))"
        let name = try plant.machineName(site: site, machine: machine)
        let entries = try plant.timeline(site: site, machine: machine, from: from, to: end)
        let result = try plant.oee(site: site, from: from, to: end, machine: machine).first?.result
        let step: Double = end.timeIntervalSince(from) > 12 * 3_600 ? 3 * 3_600 : 3_600
        let ticks = stride(from: from.timeIntervalSince1970, through: end.timeIntervalSince1970, by: step).map { t in
            (t, Self.hour(Date(timeIntervalSince1970: t), calendar))
        }
        let timeline = TimelineSVG.render(
            title: "States, \(window)", start: from.timeIntervalSince1970, end: end.timeIntervalSince1970,
            stretches: entries.map { e in
                let stop = e.end ?? now
                return TimelineSVG.Stretch(
                    start: e.start.timeIntervalSince1970, end: stop.timeIntervalSince1970, state: e.state,
                    label: "\(Self.stateLabel(e.state))\(e.reason.map { ": \($0)" } ?? "") · \(Self.duration(stop.timeIntervalSince(e.start)))")
            }, ticks: ticks)
        var downtime: [String: Double] = [:]
        for e in entries where e.state == "unplanned_stop" {
            let seconds = min(e.end ?? now, end).timeIntervalSince(max(e.start, from))
            downtime[e.reason ?? "(no reason given)", default: 0] += max(0, seconds) / 60
        }
        var values: [String: TemplateValue] = [
            "title": .string("\(machine) — machine"), "site": .string(site), "machine": .string(machine), "name": .string(name), "window": .string(window),
            "timeline": .string(timeline),
            "pareto": .string(ParetoSVG.render(title: "Downtime by reason (minutes)", items: downtime.map { ($0.key, $0.value) }, unit: "min")),
            "queue": .list(try production.queue(site: site, machine: machine).prefix(6).map { item in
                ["work_order": .string(item.workOrder), "sequence": .int(item.sequence), "name": .string(item.name), "state": .string(item.state.rawValue),
                 "progress": .string("\(Self.number(item.good)) / \(Self.number(item.planned))"), "on_hold": .bool(item.onHold)]
            }),
            "stops": .list(entries.filter { $0.state == "unplanned_stop" && $0.reason == nil }.map { e in
                ["id": .string(String(e.id)), "from": .string(Self.clock(e.start)), "to": .string(e.end.map(Self.clock) ?? "now"),
                 "length": .string(Self.duration((e.end ?? now).timeIntervalSince(e.start))),
                 "middle": .string(Date(timeIntervalSince1970: (e.start.timeIntervalSince1970 + (e.end ?? now).timeIntervalSince1970) / 2).ISO8601Format())]
            }),
            "back": .string("/machines/\(Self.percentEncoded(site))/\(Self.percentEncoded(machine))"),
        ]
        if let r = result {
            let hours = 3_600.0
            values["oee"] = [
                "oee": .string(String(format: "%.1f %%", r.oee * 100)), "availability": .string(String(format: "%.1f %%", r.availability * 100)),
                "performance": .string(String(format: "%.1f %%", r.performance * 100)), "quality": .string(String(format: "%.1f %%", r.quality * 100)),
                "good": .int(r.goodCount), "total": .int(r.totalCount), "flags": .list(r.flags.map(TemplateValue.string)),
            ]
            values["waterfall"] = .string(WaterfallSVG.render(title: "Where the time went (hours)", steps: [
                .init(label: "Planned", value: r.plannedProductionSeconds / hours, isTotal: true),
                .init(label: "Availability loss", value: max(0, r.plannedProductionSeconds - r.runSeconds) / hours, isTotal: false),
                .init(label: "Run", value: r.runSeconds / hours, isTotal: true),
                .init(label: "Performance loss", value: max(0, r.runSeconds - r.idealSeconds) / hours, isTotal: false),
                .init(label: "Net", value: min(r.idealSeconds, r.runSeconds) / hours, isTotal: true),
                .init(label: "Quality loss", value: max(0, r.idealSeconds - r.fullyProductiveSeconds) / hours, isTotal: false),
                .init(label: "Fully productive", value: r.fullyProductiveSeconds / hours, isTotal: true),
            ], unit: "h"))
        }
        values["has_stops"] = values["stops"].map { if case .list(let l) = $0 { .bool(!l.isEmpty) } else { .bool(false) } }
        return try render("machine", values, session: page.session, request: page.request)
    }

    static func hour(_ date: Date, _ calendar: Calendar) -> String {
        let parts = calendar.dateComponents([.hour], from: date)
        return String(format: "%02d:00", parts.hour ?? 0)
    }
}
