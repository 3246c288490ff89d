import Domain
import Foundation
import HTTP
import JSON
import Services
import Templating

/// Plant IT's and the supervisors' pages: the ERP ledger with replay of dead entries, the MQTT
/// dead letters, and the shift handover.
extension WebApp {
    static let plantIT: Set<String> = ["admin"]
    static let supervisors: Set<String> = ["supervisor"]

    func registerAdmin(_ routes: inout PageRoutes) throws {
        let app = self
        try page(&routes, "GET", "/erp", roles: Self.plantIT) { page in
            let state = try page.request.query()["state"].flatMap { $0.isEmpty ? nil : $0 }
            if let state, !["pending", "sent", "skipped", "dead"].contains(state) { throw HTTPError(.badRequest, "state must be pending, sent, skipped or dead") }
            return try app.render("erp", [
                "title": "ERP ledger", "state": state.map(TemplateValue.string) ?? .null,
                "entries": .list(try Outbox.ledger(state: state, limit: 200, app.pool).map { e in
                    ["id": .string(String(e.id)), "key": .string(e.key), "stream": .string(e.stream), "kind": .string(e.kind), "state": .string(e.state),
                     "dead": .bool(e.state == "dead"), "attempts": .int(e.attempts), "created": .string(Self.clock(e.createdAt)),
                     "sent": .string(e.sentAt.map(Self.clock) ?? "–"), "answer": .string(e.erpAnswer ?? e.lastError ?? "")]
                }),
            ], session: page.session, request: page.request)
        }
        try page(&routes, "POST", "/erp/:id/replay", roles: Self.plantIT) { page in
            let id = try page.id("id")
            guard try Outbox.replay(id: id, app.pool) else { throw HTTPError(.conflict, "Outbox entry \(id) does not exist or is not dead.") }
            return Self.done("/erp?state=dead", notice: "Entry \(id) is pending again.")
        }
        try page(&routes, "GET", "/dead-letters", roles: Self.plantIT) { page in
            try app.render("dead-letters", [
                "title": "Dead letters",
                "letters": .list(try app.plant.deadLetters().map { d in
                    ["id": .string(String(d.id)), "at": .string(Self.clock(d.receivedAt)), "source": .string(d.source), "topic": .string(d.topic),
                     "payload": .string(d.payload), "bytes": .int(d.payloadBytes), "reason": .string(d.reason)]
                }),
            ], session: page.session, request: page.request)
        }
        let handovers = ShiftHandoverService(pool: pool)
        try page(&routes, "GET", "/handover/:site", roles: Self.supervisors) { page in
            let site = try page.parameter("site")
            let list = try handovers.latest(site: site)
            var values: [String: TemplateValue] = [
                "title": .string("Shift handover — \(site)"), "site": .string(site),
                "handovers": .list(list.map { ["id": .string(String($0.id)), "shift": .string($0.shift), "start": .string(Self.clock($0.start)),
                                                "signatures": .int($0.signatures)] }),
            ]
            if let chosen = (try? page.request.query()["id"]).flatMap({ Int64($0) }) ?? list.first?.id {
                let h = try handovers.handover(chosen)
                values["current"] = [
                    "id": .string(String(h.id)), "shift": .string(h.shift), "start": .string(Self.clock(h.start)), "end": .string(Self.clock(h.end)),
                    "notes": .string(h.notesHTML), "summary": .string(String(decoding: h.summary.encoded(), as: UTF8.self)),
                    "oee": .string(h.summary["oee"]?["oee"]?.doubleValue.map { String(format: "%.1f %%", $0 * 100) } ?? "–"),
                    "downtime": .list((h.summary["downtime"]?.arrayValue ?? []).map {
                        .string("\($0["reason"]?.stringValue ?? "?"): \(Self.duration($0["seconds"]?.doubleValue ?? 0))")
                    }),
                    "scrap": .list((h.summary["scrap"]?.arrayValue ?? []).map {
                        .string("\($0["reason"]?.stringValue ?? "?"): \(Self.number($0["quantity"]?.doubleValue ?? 0))")
                    }),
                    "holds": .int(h.summary["open_holds"]?.arrayValue?.count ?? 0),
                    "alarms": .string("\(h.summary["spc_alarms"]?["raised"]?.intValue ?? 0) raised, \(h.summary["spc_alarms"]?["unacknowledged"]?.intValue ?? 0) open"),
                    "checklist": .list(h.checklist.map { ["item": .string($0.item), "done": .bool($0.done)] }),
                    "signatures": .list(h.signatures.map { .string("\($0.signerName), \($0.meaning.rawValue), \(Self.clock($0.signedAt))") }),
                    "signed": .bool(!h.signatures.isEmpty), "complete": .bool(h.signatures.count >= 2),
                    "next_meaning": .string(h.signatures.isEmpty ? "performed" : "reviewed"),
                ]
            }
            return try app.render("handover", values, session: page.session, request: page.request)
        }
        try page(&routes, "POST", "/handover/:site/prepare", roles: Self.supervisors) { page in
            let site = try page.parameter("site")
            let items = (page.form["checklist"] ?? "").split(whereSeparator: \.isNewline).map { String($0).trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
            let done = Set(page.form.fields["done"] ?? [])
            let id = try handovers.prepare(
                site: site, notes: page.form["notes"] ?? "", checklist: items.map { .init(item: $0, done: done.contains($0)) }, by: page.session.username)
            return Self.done("/handover/\(Self.percentEncoded(site))?id=\(id)", notice: "Handover prepared; sign it when it is complete.")
        }
        try page(&routes, "POST", "/handover/:site/:id/sign", roles: Self.supervisors) { page in
            let site = try page.parameter("site")
            let id = try page.id("id")
            guard let meaning = page.form["meaning"].flatMap(SignatureMeaning.init(rawValue:)) else {
                throw ProductionRuleError(.invalidInput, "the signature's meaning is missing")
            }
            try handovers.signOff(id, signature: SignatureRequest(username: page.session.username, password: page.form["password"] ?? "", meaning: meaning))
            return Self.done("/handover/\(Self.percentEncoded(site))?id=\(id)", notice: "Signed.")
        }
    }
}

extension WebApp {
    /// `/admin`: the plant model, shifts with breaks, reason codes, users and roles.
    func registerPlantAdmin(_ routes: inout PageRoutes) throws {
        let app = self
        let admin = PlantAdminService(pool: pool)
        try page(&routes, "GET", "/admin", roles: Self.plantIT) { page in
            let o = try admin.overview()
            func clock(_ minute: Int) -> String { String(format: "%02d:%02d", minute / 60, minute % 60) }
            return try app.render("admin", [
                "title": "Administration",
                "sites": .list(o.sites.map { ["code": .string($0.code), "name": .string($0.name), "zone": .string($0.timeZone)] }),
                "lines": .list(o.lines.map { ["site": .string($0.site), "area": .string($0.area), "line": .string($0.line), "name": .string($0.name)] }),
                "machines": .list(o.machines.map { ["site": .string($0.site), "line": .string($0.line ?? "–"), "code": .string($0.code), "name": .string($0.name),
                                                    "active": .bool($0.active)] }),
                "shifts": .list(o.shifts.map { ["site": .string($0.site), "name": .string($0.name), "from": .string(clock($0.start)), "to": .string(clock($0.end)),
                                                "weekdays": .string($0.weekdays), "breaks": .string($0.breaks)] }),
                "reasons": .list(o.reasons.map { ["kind": .string($0.kind), "code": .string($0.code), "description": .string($0.description), "active": .bool($0.active)] }),
                "users": .list(o.users.map { ["username": .string($0.username), "name": .string($0.name), "roles": .string($0.roles),
                                              "badge": .string($0.badge ?? "–"), "active": .bool($0.active)] }),
                "role_choices": .list(["operator", "supervisor", "quality", "manager", "admin"].map(TemplateValue.string)),
            ], session: page.session, request: page.request)
        }
        try page(&routes, "POST", "/admin", roles: Self.plantIT) { page in
            let f = page.form
            let me = page.session.username
            func minutes(_ name: String) throws -> Int {
                let text = try f.required(name, "the \(name) time")
                let parts = text.split(separator: ":").compactMap { Int($0) }
                guard parts.count == 2, (0..<24).contains(parts[0]), (0..<60).contains(parts[1]) else {
                    throw ProductionRuleError(.invalidInput, "a time is HH:MM, not '\(text)'")
                }
                return parts[0] * 60 + parts[1]
            }
            switch f["what"] {
            case "site": try admin.addSite(code: try f.required("code", "the code"), name: try f.required("name", "the name"), timeZone: f["zone"] ?? "UTC", by: me)
            case "line":
                try admin.addLine(site: try f.required("site", "the site"), area: try f.required("area", "the area"), line: try f.required("line", "the line"),
                                  name: try f.required("name", "the name"), by: me)
            case "machine":
                try admin.addMachine(site: try f.required("site", "the site"), line: f["line"].flatMap { $0.isEmpty ? nil : $0 },
                                     code: try f.required("code", "the code"), name: try f.required("name", "the name"), by: me)
            case "shift":
                var breaks: [(Int, Int)] = []
                if let text = f["break_at"], !text.isEmpty { breaks.append((try minutes("break_at"), Int(f["break_minutes"] ?? "") ?? 30)) }
                try admin.addShift(site: try f.required("site", "the site"), name: try f.required("name", "the name"), start: try minutes("from"),
                                   end: try minutes("to"), weekdays: f["weekdays"].flatMap { $0.isEmpty ? nil : $0 } ?? "12345", breaks: breaks, by: me)
            case "reason":
                try admin.setReason(kind: try f.required("kind", "the kind"), code: try f.required("code", "the code"),
                                    description: try f.required("description", "the description"), active: true, by: me)
            case "reason_off":
                try admin.setReason(kind: try f.required("kind", "the kind"), code: try f.required("code", "the code"), description: nil, active: false, by: me)
            case "user":
                try app.sessions.addUser(
                    username: try f.required("username", "the user name"), displayName: try f.required("name", "the name"), roles: f.fields["role"] ?? [],
                    password: f["password"] ?? "", badge: f["badge"].flatMap { $0.isEmpty ? nil : $0 }, pin: f["pin"].flatMap { $0.isEmpty ? nil : $0 }, by: me)
            case "user_off": try admin.setUser(try f.required("username", "the user"), active: false, by: me)
            case "user_on": try admin.setUser(try f.required("username", "the user"), active: true, by: me)
            case "role": try admin.setUser(try f.required("username", "the user"), addRole: try f.required("role", "the role"), by: me)
            default: throw ProductionRuleError(.invalidInput, "the form must say what to change")
            }
            return Self.done("/admin", notice: "Saved.")
        }
    }
}
