import Domain
import Foundation
import HTTP
import Services
import Templating

/// Quality's pages: open holds, nonconformances with their investigation and signed
/// disposition, SPC alarms, the audit trail with its verification, and lot traces.
extension WebApp {
    static let qualityPeople: Set<String> = ["quality", "supervisor"]
    static let auditors: Set<String> = ["quality", "admin"]
    static let tracers: Set<String> = ["quality", "supervisor", "manager"]

    func registerQuality(_ routes: inout PageRoutes) throws {
        let app = self
        try page(&routes, "GET", "/quality", roles: Self.qualityPeople) { page in
            let holds = try app.quality.openHolds()
            return try app.render("quality/index", [
                "title": "Quality", "has_holds": .bool(!holds.isEmpty),
                "holds": .list(holds.map {
                    ["id": .string(String($0.id)), "subject": .string($0.subject), "source": .string($0.source), "reason": .string($0.reason),
                     "since": .string(Self.clock($0.since))]
                }),
                "nonconformances": .list(try app.quality.nonconformances(open: true).map(Self.view)),
                "alarms": .list(try app.quality.openAlarms(site: nil).map {
                    ["id": .string(String($0.id)), "machine": .string($0.machine ?? "–"), "characteristic": .string($0.characteristic),
                     "rules": .string($0.rules.joined(separator: ", ")), "raised": .string(Self.clock($0.raisedAt))]
                }),
            ], session: page.session, request: page.request)
        }
        try page(&routes, "POST", "/quality/holds/:id/release", roles: ["quality"]) { page in
            try app.quality.releaseHold(try page.id("id"), reason: page.form["reason"] ?? "", by: page.session.username)
            return Self.done("/quality", notice: "Hold \(try page.id("id")) released.")
        }
        try page(&routes, "POST", "/quality/alarms/:id/acknowledge", roles: Self.qualityPeople) { page in
            try app.quality.acknowledge(alarmID: try page.id("id"), by: page.session.username, note: page.form["note"] ?? "")
            return Self.done("/quality", notice: "Alarm \(try page.id("id")) acknowledged.")
        }
        try page(&routes, "GET", "/quality/nonconformances/:id", roles: Self.qualityPeople) { page in
            let id = try page.id("id")
            guard let nc = try app.quality.nonconformances(open: false, limit: 100_000).first(where: { $0.id == id }) else {
                throw HTTPError(.notFound, "There is no nonconformance \(id).")
            }
            let signatures = try app.quality.signatures(nonconformance: id)
            return try app.render("quality/nonconformance", [
                "has_signatures": .bool(!signatures.isEmpty),
                "title": .string("Nonconformance \(id)"), "nc": Self.view(nc), "open": .bool(nc.state != "dispositioned"),
                "scrap_reasons": .list(try app.production.reasonCodes(.scrap).map { ["code": .string($0.code), "description": .string($0.description)] }),
                "rework_reasons": .list(try app.production.reasonCodes(.rework).map { ["code": .string($0.code), "description": .string($0.description)] }),
                "signatures": .list(signatures.map { s in
                    ["name": .string(s.signerName), "meaning": .string(s.meaning.rawValue), "at": .string(Self.clock(s.signedAt)),
                     "reason": s.reason.map(TemplateValue.string) ?? .null, "hash": .string(s.recordHash), "unchanged": .bool(s.recordUnchanged)]
                }),
            ], session: page.session, request: page.request)
        }
        try page(&routes, "POST", "/quality/nonconformances/:id/investigate", roles: ["quality"]) { page in
            let id = try page.id("id")
            try app.quality.investigate(id, findings: page.form["findings"] ?? "", by: page.session.username)
            return Self.done("/quality/nonconformances/\(id)", notice: "Findings recorded.")
        }
        try page(&routes, "POST", "/quality/nonconformances/:id/disposition", roles: ["quality"]) { page in
            let id = try page.id("id")
            guard let disposition = page.form["disposition"].flatMap(QualityService.Disposition.init(rawValue:)) else {
                throw ProductionRuleError(.invalidInput, "choose a disposition: use as is, rework, scrap or return")
            }
            let quantity = try page.form["quantity"].flatMap { $0.isEmpty ? nil : $0 }.map { _ in try page.form.number("quantity", "the quantity") }
            try app.quality.disposition(
                id, disposition, reason: page.form["reason"] ?? "", quantity: quantity, reasonCode: page.form["reason_code"].flatMap { $0.isEmpty ? nil : $0 },
                signature: SignatureRequest(username: page.session.username, password: page.form["password"] ?? "", meaning: .approved,
                                            reason: page.form["reason"]))
            return Self.done("/quality/nonconformances/\(id)", notice: "Disposition signed.")
        }
        try page(&routes, "GET", "/audit", roles: Self.auditors) { page in
            let query = try page.request.query()
            var values: [String: TemplateValue] = [
                "title": "Audit trail",
                "records": .list(try AuditTrail.latest(limit: 200, actor: query["actor"].flatMap { $0.isEmpty ? nil : $0 }, app.pool).map { r in
                    ["seq": .string(String(r.seq)), "at": .string(Self.clock(r.at)), "actor": .string(r.actor), "action": .string(r.action),
                     "entity": .string("\(r.entity) \(r.entityID)"), "reason": r.reason.map(TemplateValue.string) ?? .null,
                     "before": r.before.map(TemplateValue.string) ?? .null, "after": r.after.map(TemplateValue.string) ?? .null,
                     "hash": .string(String(r.hash.prefix(12)))]
                }),
                "actor": query["actor"].map(TemplateValue.string) ?? .null,
            ]
            if query["verify"] != nil {
                let result = try AuditTrail.verify(app.pool)
                values["verification"] = [
                    "intact": .bool(result.intact), "checked": .int(result.checked),
                    "head": .string(result.head.map { "\($0.seq):\($0.hash)" } ?? "–"), "problems": .list(result.problems.map(TemplateValue.string)),
                ]
            }
            return try app.render("audit", values, session: page.session, request: page.request)
        }
        try page(&routes, "GET", "/trace", roles: Self.tracers) { page in
            let query = try page.request.query()
            var values: [String: TemplateValue] = ["title": "Trace a lot"]
            if let part = query["part"], let lot = query["lot"], !part.isEmpty, !lot.isEmpty {
                let forward = query["direction"] == "forward"
                let steps = try app.genealogy.trace(part: part, lot: lot, forward ? .forward : .backward)
                values["part"] = .string(part)
                values["lot"] = .string(lot)
                values["forward"] = .bool(forward)
                values["searched"] = true
                values["has_steps"] = .bool(!steps.isEmpty)
                values["csv"] = .string("/trace.csv?part=\(Self.percentEncoded(part))&lot=\(Self.percentEncoded(lot))&direction=\(forward ? "forward" : "backward")")
                values["steps"] = .list(steps.map { s in
                    ["depth": .int(s.depth), "part": .string(s.part), "lot": .string(s.lot), "kind": .string(s.kind.rawValue),
                     "quantity": .string(Self.number(s.quantity)), "via": .string(s.via), "work_order": s.workOrder.map(TemplateValue.string) ?? .null,
                     "operation": s.operation.map { .int($0) } ?? .null, "machine": s.machine.map(TemplateValue.string) ?? .null,
                     "operator": s.operatorName.map(TemplateValue.string) ?? .null, "at": .string(Self.clock(s.at))]
                })
            }
            return try app.render("trace", values, session: page.session, request: page.request)
        }
        try page(&routes, "GET", "/trace.csv", roles: Self.tracers) { page in
            let query = try page.request.query()
            guard let part = query["part"], let lot = query["lot"] else { throw HTTPError(.badRequest, "give part and lot") }
            let steps = try app.genealogy.trace(part: part, lot: lot, query["direction"] == "forward" ? .forward : .backward)
            var response = HTTPResponse(contentType: "text/csv; charset=utf-8", body: Array(GenealogyService.csv(steps).utf8))
            response.headers.set("Content-Disposition", "attachment; filename=\"trace.csv\"")
            return response
        }
    }

    static func view(_ nc: QualityService.NonconformanceView) -> TemplateValue {
        [
            "id": .string(String(nc.id)), "subject": .string(nc.subject), "description": .string(nc.description), "state": .string(nc.state),
            "quantity": nc.quantity.map { .string(number($0)) } ?? .null, "investigation": nc.investigation.map(TemplateValue.string) ?? .null,
            "disposition": nc.disposition.map { .string($0.replacingOccurrences(of: "_", with: " ")) } ?? .null,
            "disposition_reason": nc.dispositionReason.map(TemplateValue.string) ?? .null, "opened_by": nc.openedBy.map(TemplateValue.string) ?? .null,
            "opened": .string(clock(nc.openedAt)),
        ]
    }
}
