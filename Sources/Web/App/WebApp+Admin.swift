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
