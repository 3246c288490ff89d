import Domain
import Foundation
import HTTP
import Services
import Templating

/// The wall screen of a site: every machine as a tile with its state (named, not only
/// colored), time in state, current job and progress, an andon for stops without a reason and
/// SPC alarms; kept live by Public/wall.js over /events, readable without it.
extension WebApp {
    static let wallViewers: Set<String> = ["supervisor", "manager", "quality", "admin"]

    func registerWall(_ routes: inout PageRoutes) throws {
        let app = self
        try page(&routes, "GET", "/wall/:site", roles: Self.wallViewers) { page in
            let site = try page.parameter("site")
            // A kiosk URL per line: /wall/S1?line=L1 (several: line=L1&line=L2).
            let lines = Set(try page.request.query().all("line"))
            // Kept rendered for a moment: many screens load the same wall (after a restart, all
            // at once). The page names the event it was rendered after, and the screen's event
            // stream starts there, so nothing that changed since is missed.
            let key = "\(site)?\(page.request.rawQuery ?? "")"
            return try app.renderShared("wall", key: key, cache: app.wallPages, session: page.session, request: page.request) {
                let after = app.liveEvents?.resumeToken
                let states = try app.plant.machineStates(site: site).filter { lines.isEmpty || $0.line.map(lines.contains) == true }
                let jobs = try app.production.currentJobs(site: site)
                let alarms = try app.quality.openAlarms(site: site)
                let alarmed = Set(alarms.compactMap(\.machine))
                return [
                    "after": after.map(TemplateValue.string) ?? .null,
                    "title": .string("Wall — \(site)\(lines.isEmpty ? "" : " " + lines.sorted().joined(separator: ", "))"), "site": .string(site),
                    "machines": .list(states.map { m in
                        let state = m.state ?? "offline"
                        let job = jobs[m.machine]
                        return [
                            "code": .string(m.machine), "name": .string(m.name), "line": m.line.map(TemplateValue.string) ?? .null,
                            "state": .string(state), "state_label": .string(Self.stateLabel(state)), "reason": m.reason.map(TemplateValue.string) ?? .null,
                            "since_ms": .string(m.since.map { String(Int64($0.timeIntervalSince1970 * 1000)) } ?? ""),
                            "since": .string(m.since.map { Self.duration(Date().timeIntervalSince($0)) } ?? "–"),
                            "andon": .bool((state == "unplanned_stop" && m.reason == nil) || alarmed.contains(m.machine)),
                            "unexplained": .bool(state == "unplanned_stop" && m.reason == nil),
                            "spc_alarm": .bool(alarmed.contains(m.machine)),
                            "job": job.map { j in
                                ["work_order": .string(j.workOrder), "sequence": .int(j.sequence), "good": .string(Self.number(j.good)),
                                 "planned": .string(Self.number(j.planned)), "percent": .int(j.planned > 0 ? min(100, Int(j.good / j.planned * 100)) : 0)]
                            } ?? .null,
                        ]
                    }),
                    "alarms": .list(alarms.map { a in
                        ["id": .string(String(a.id)), "machine": .string(a.machine ?? "–"), "characteristic": .string(a.characteristic),
                         "rules": .string(a.rules.joined(separator: ", ")), "raised": .string(Self.clock(a.raisedAt))]
                    }),
                ]
            }
        }
    }

    /// A state's name on the wall: the words, not only the color.
    static func stateLabel(_ state: String) -> String {
        switch state {
        case "running": "Running"
        case "idle": "Idle"
        case "unplanned_stop": "Down"
        case "setup": "Setup"
        case "planned_stop": "Planned stop"
        default: "Offline"
        }
    }

    static func duration(_ seconds: Double) -> String {
        let minutes = max(0, Int(seconds / 60))
        return minutes < 60 ? "\(minutes) min" : "\(minutes / 60) h \(minutes % 60) min"
    }
}
