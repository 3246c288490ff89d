import Domain
import Foundation
import HTTP
import Services
import Templating

/// Quality's authoring pages: work instructions (drafts with pictures, release by signature),
/// characteristics (specification, chart, rules, frozen limits) and qualifications (what an
/// operation requires, who holds what until when).
extension WebApp {
    static let authors: Set<String> = ["quality", "admin"]

    func registerAuthoring(_ routes: inout PageRoutes) throws {
        let app = self
        try page(&routes, "GET", "/instructions", roles: Self.authors) { page in
            let versions = try app.instructions.versions()
            let chosen = (try? page.request.query()["id"]).flatMap { Int64($0) }
            return try app.render("instructions", [
                "title": "Work instructions",
                "versions": .list(versions.map { v in
                    ["id": .string(String(v.id)), "part": .string(v.part), "operation": .int(v.operation), "version": .int(v.version),
                     "title": .string(v.title), "state": .string(v.state), "author": .string(v.author), "draft": .bool(v.state == "draft"),
                     "created": .string(Self.clock(v.createdAt))]
                }),
                "preview": versions.first { $0.id == chosen }.map { v in
                    ["id": .string(String(v.id)), "title": .string(v.title), "html": .string(WorkInstructionService.render(v.body)),
                     "draft": .bool(v.state == "draft"), "body": .string(v.body), "part": .string(v.part), "operation": .int(v.operation)]
                } ?? .null,
            ], session: page.session, request: page.request)
        }
        try page(&routes, "POST", "/instructions/draft", roles: Self.authors) { page in
            var body = page.form["body"] ?? ""
            if let picture = page.form.files["picture"] {
                let hash = try app.instructions.upload(picture, by: page.session.username)
                body += "\n\n" + WorkInstructionService.pictureReference(sha256: hash, fileName: picture.fileName) + "\n"
            }
            guard let operation = Int(try page.form.required("operation", "the operation number")) else {
                throw ProductionRuleError(.invalidInput, "the operation number must be a whole number")
            }
            let (id, version) = try app.instructions.saveDraft(
                part: try page.form.required("part", "the part"), operation: operation, title: page.form["title"] ?? "", body: body,
                by: page.session.username)
            return Self.done("/instructions?id=\(id)", notice: "Draft version \(version) saved.")
        }
        try page(&routes, "POST", "/instructions/:id/release", roles: Self.authors) { page in
            let id = try page.id("id")
            try app.instructions.release(id, signature: SignatureRequest(
                username: page.session.username, password: page.form["password"] ?? "", meaning: .approved, reason: page.form["reason"]))
            return Self.done("/instructions?id=\(id)", notice: "Released.")
        }
        try page(&routes, "GET", "/attachments/:hash", roles: Self.everyone) { page in
            guard let file = try Attachments.content(sha256: try page.parameter("hash"), app.pool) else { throw HTTPError(.notFound, "There is no such file.") }
            var response = HTTPResponse(contentType: file.contentType, body: file.bytes)
            response.headers.set("Cache-Control", "private, max-age=31536000, immutable")
            response.headers.set("X-Content-Type-Options", "nosniff")
            return response
        }
    }
}

extension WebApp {
    func registerSetup(_ routes: inout PageRoutes) throws {
        let app = self
        let qualifications = QualificationService(pool: pool)
        try page(&routes, "GET", "/characteristics", roles: Self.authors) { page in
            try app.render("characteristics", [
                "title": "Characteristics",
                "characteristics": .list(try app.quality.characteristicList().map {
                    ["id": .string(String($0.id)), "part": .string($0.part), "operation": .int($0.operation), "code": .string($0.code),
                     "name": .string($0.name), "points": .int($0.points)]
                }),
                "rules": .list(SPCRule.allCases.map { ["code": .string($0.rawValue), "explanation": .string($0.explanation),
                                                      "default": .bool([.n1, .n2, .n3, .n5, .n6].contains($0))] }),
            ], session: page.session, request: page.request)
        }
        try page(&routes, "POST", "/characteristics", roles: Self.authors) { page in
            let form = page.form
            func optional(_ name: String, _ what: String) throws -> Double? {
                guard let text = form[name], !text.isEmpty else { return nil }
                return try form.number(name, what)
            }
            guard let operation = Int(try form.required("operation", "the operation number")),
                let size = Int(form["subgroup_size"] ?? "1") else { throw ProductionRuleError(.invalidInput, "the operation and subgroup size are whole numbers") }
            guard let chart = LivePointCheck.Chart(rawValue: form["chart"] ?? "imr") else { throw ProductionRuleError(.invalidInput, "choose a chart") }
            let sampling = try optional("sampling_minutes", "the sampling interval").map { Int($0) }
            let id = try app.quality.define(.init(
                part: try form.required("part", "the part"), operationSequence: operation, code: try form.required("code", "the code"),
                name: try form.required("name", "the name"), unit: form["unit"].flatMap { $0.isEmpty ? nil : $0 } ?? "mm",
                nominal: try optional("nominal", "the nominal"), lsl: try optional("lsl", "the lower limit"), usl: try optional("usl", "the upper limit"),
                subgroupSize: size, samplingMinutes: sampling, chart: chart, rules: (form.fields["rule"] ?? []).compactMap(SPCRule.init(rawValue:)),
                holdOnSignal: form["hold_on_signal"] == "on"), by: page.session.username)
            return Self.done("/characteristics", notice: "Characteristic \(id) saved.")
        }
        try page(&routes, "POST", "/characteristics/:id/freeze", roles: ["quality"]) { page in
            try app.quality.freezeLimits(
                characteristicID: try page.id("id"), center: try page.form.number("center", "the center"), sigma: try page.form.number("sigma", "sigma"),
                effectiveFrom: Date(), by: page.session.username, reason: page.form["reason"] ?? "")
            return Self.done("/spc/\(try page.id("id"))", notice: "Limits frozen from now on.")
        }
        try page(&routes, "GET", "/qualifications", roles: Self.authors) { page in
            let overview = try qualifications.overview()
            let now = Date()
            return try app.render("qualifications", [
                "title": "Qualifications",
                "qualifications": .list(overview.qualifications.map { ["code": .string($0.code), "description": .string($0.description)] }),
                "requirements": .list(overview.requirements.map { ["part": .string($0.part), "operation": .int($0.operation), "code": .string($0.qualification)] }),
                "grants": .list(overview.grants.map {
                    ["user": .string($0.username), "code": .string($0.qualification), "from": .string(Self.clock($0.from)),
                     "expires": .string(Self.clock($0.expires)), "expired": .bool($0.expires <= now)]
                }),
            ], session: page.session, request: page.request)
        }
        try page(&routes, "POST", "/qualifications", roles: Self.authors) { page in
            let form = page.form
            switch form["what"] {
            case "define":
                try qualifications.define(try form.required("code", "the code"), description: try form.required("description", "the description"), by: page.session.username)
            case "require":
                guard let operation = Int(try form.required("operation", "the operation number")) else {
                    throw ProductionRuleError(.invalidInput, "the operation number must be a whole number")
                }
                try qualifications.require(try form.required("code", "the qualification"), part: try form.required("part", "the part"), operation: operation,
                                           by: page.session.username)
            case "grant":
                let text = try form.required("until", "the expiry day")
                guard let until = try? Date(text + "T00:00:00Z", strategy: .iso8601) else {
                    throw ProductionRuleError(.invalidInput, "the expiry must be a day as YYYY-MM-DD, not '\(text)'")
                }
                try qualifications.grant(try form.required("code", "the qualification"), to: try form.required("user", "the person"), until: until,
                                         by: page.session.username)
            default:
                throw ProductionRuleError(.invalidInput, "the form must say what to do: define, require or grant")
            }
            return Self.done("/qualifications", notice: "Saved.")
        }
    }
}
