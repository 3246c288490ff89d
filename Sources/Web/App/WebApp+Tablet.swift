import Domain
import Foundation
import HTTP
import Services
import Templating

/// The operator's tablet at a machine: the machine's operations with their buttons, good and
/// scrap reports with a reason and a photo, measurements with the verdict at once, and the
/// released work instruction.
extension WebApp {
    static let floor: Set<String> = ["operator", "supervisor"]

    func registerTablet(_ routes: inout PageRoutes) throws {
        let app = self
        try page(&routes, "GET", "/tablet/:site/:machine", roles: Self.floor, signIn: { context in
            "/tablet/\((try? context.parameter("site")) ?? "")/\((try? context.parameter("machine")) ?? "")/sign-in"
        }) { page in
            try app.machinePage(page, site: try page.parameter("site"), machine: try page.parameter("machine"))
        }
        try page(&routes, "POST", "/tablet/operations/:id/action", roles: Self.floor) { page in
            let id = try page.id("id")
            guard let action = page.form["action"].flatMap(OperationAction.init(rawValue:)) else {
                throw ProductionRuleError(.invalidInput, "the action must be setup, start, pause or complete")
            }
            let state = try app.production.perform(action, operationID: id, by: page.session.username)
            return Self.done(Self.back(page.form, operation: id), notice: "The operation is \(state.rawValue) now.")
        }
        try page(&routes, "POST", "/tablet/operations/:id/report", roles: Self.floor) { page in
            let id = try page.id("id")
            guard let kind = page.form["kind"].flatMap(QuantityKind.init(rawValue:)) else {
                throw ProductionRuleError(.invalidInput, "choose good, scrap or rework")
            }
            let quantity = try page.form.number("quantity", "the quantity")
            let reason = page.form["reason"].flatMap { $0.isEmpty ? nil : $0 }
            let note = page.form["note"].flatMap { $0.isEmpty ? nil : $0 }
            let outcome = try app.production.report(
                operationID: id, kind, quantity: quantity, reason: kind == .good ? nil : reason, note: note, photo: page.form.files["photo"],
                by: page.session.username, requestKey: page.form["form_token"])
            let what = "\(Self.number(quantity)) \(kind.rawValue)" + (kind == .good ? "" : " (\(reason ?? "-"))")
            return switch outcome {
            case .recorded: Self.done(Self.back(page.form, operation: id), notice: "Recorded \(what).")
            case .duplicate: Self.done(Self.back(page.form, operation: id), notice: "Already recorded: \(what). Nothing was added.")
            }
        }
        try page(&routes, "POST", "/tablet/operations/:id/measure", roles: Self.floor) { page in
            let id = try page.id("id")
            let code = try page.form.required("characteristic", "the characteristic")
            let values = try (page.form.fields["value"] ?? []).enumerated().map { index, text in
                guard let value = Double(text.replacingOccurrences(of: ",", with: ".").trimmingCharacters(in: .whitespaces)), value.isFinite else {
                    throw ProductionRuleError(.invalidInput, "value \(index + 1) must be a number, not '\(text)'")
                }
                return value
            }
            let result = try app.quality.record(QualityService.MeasurementInput(
                target: .operation(id), characteristic: code, values: values, source: .operator, username: page.session.username,
                requestKey: page.form["form_token"]))
            let back = Self.back(page.form, operation: id)
            let mean = Self.number(result.mean)
            if result.duplicate { return Self.done(back, notice: "\(code) \(mean) was recorded before; nothing was added.") }
            if result.inControl {
                return Self.done(back, notice: "\(code) \(mean): in control" + (result.check == nil ? " (limits not set yet)." : "."))
            }
            var words = ["\(code) \(mean):"]
            if result.outOfSpecification { words.append("OUT OF SPECIFICATION, nonconformance \(result.nonconformanceID ?? 0) opened.") }
            if let signals = result.check?.signals, !signals.isEmpty { words.append("OUT OF CONTROL (\(signals.joined(separator: ", ")))") }
            if result.holdID != nil { words.append("The operation is on hold: call quality.") }
            return Self.done(back, warning: words.joined(separator: " "))
        }
    }

    func registerOverride(_ routes: inout PageRoutes) throws {
        let qualifications = QualificationService(pool: pool)
        // A supervisor comes to the tablet and signs, with their own name and password, that the
        // operator signed in here may run this operation without the qualification they lack.
        try page(&routes, "POST", "/tablet/operations/:id/override", roles: Self.floor) { page in
            let id = try page.id("id")
            try qualifications.override(
                operationID: id, operator: try page.form.required("operator", "the operator"), reason: page.form["reason"] ?? "",
                signature: SignatureRequest(
                    username: try page.form.required("supervisor", "the supervisor's user name"), password: page.form["password"] ?? "", meaning: .approved,
                    reason: page.form["reason"]))
            return Self.done(Self.back(page.form, operation: id), notice: "Override signed; the operation can start.")
        }
    }

    /// Where a tablet form returns to: its `back` field if it is a path here, else the machine.
    static func back(_ form: Form, operation: Int64) -> String {
        let path = localPath(form["back"])
        let base = path.split(separator: "?").first.map(String.init) ?? path
        return base + "?op=\(operation)"
    }

    static func number(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(format: "%.4g", value)
    }

    func machinePage(_ page: PageRequest, site: String, machine: String) throws -> HTTPResponse {
        let queue = try production.queue(site: site, machine: machine)
        let chosen = (try? page.request.query()["op"]).flatMap { Int64($0) }
        let selected = queue.first { $0.operationID == chosen } ?? queue.first { $0.state != .queued } ?? queue.first
        let path = "/tablet/\(Self.percentEncoded(site))/\(Self.percentEncoded(machine))"
        var values: [String: TemplateValue] = [
            "title": .string("\(machine) — tablet"), "site": .string(site), "machine": .string(machine), "back": .string(path),
            "operations": .list(queue.map { item in
                var actions: [(OperationAction, String)] = switch item.state {
                case .queued: [(.setUp, "Set up"), (.start, "Start")]
                case .setup: [(.start, "Start"), (.pause, "Pause")]
                case .running: [(.pause, "Pause"), (.complete, "Complete")]
                case .paused: [(.start, "Resume"), (.complete, "Complete")]
                case .complete: []
                }
                // On hold only pausing is possible; the page says why.
                if item.onHold { actions = actions.filter { $0.0 == .pause } }
                return [
                    "id": .string(String(item.operationID)), "work_order": .string(item.workOrder), "part": .string(item.part),
                    "sequence": .int(item.sequence), "name": .string(item.name), "state": .string(item.state.rawValue),
                    "good": .string(Self.number(item.good)), "scrap": .string(Self.number(item.scrap)), "planned": .string(Self.number(item.planned)),
                    "on_hold": .bool(item.onHold), "selected": .bool(item.operationID == selected?.operationID),
                    "actions": .list(actions.map { ["action": .string($0.0.rawValue), "label": .string($0.1)] }),
                ]
            }),
        ]
        if let selected {
            let characteristics = try quality.characteristics(operationID: selected.operationID)
            let due = Dictionary(uniqueKeysWithValues: try quality.sampling(operationID: selected.operationID).map { ($0.characteristic, $0) })
            let instruction = try instructions.current(operationID: selected.operationID)
            values["has_characteristics"] = .bool(!characteristics.isEmpty)
            let missing = try QualificationService(pool: pool).missing(operationID: selected.operationID, username: page.session.username)
            values["missing"] = missing.isEmpty ? .null : .string(missing.joined(separator: ", "))
            values["selected"] = [
                "id": .string(String(selected.operationID)), "work_order": .string(selected.workOrder), "sequence": .int(selected.sequence),
                "name": .string(selected.name), "form_token": .string(SessionService.randomHex(16)),
                "scrap_reasons": .list(try production.reasonCodes(.scrap).map { ["code": .string($0.code), "description": .string($0.description)] }),
                "rework_reasons": .list(try production.reasonCodes(.rework).map { ["code": .string($0.code), "description": .string($0.description)] }),
                "characteristics": .list(characteristics.map { c in
                    [
                        "code": .string(c.code), "name": .string(c.name), "unit": .string(c.unit),
                        "spec": .string("\(c.lsl.map(Self.number) ?? "–") … \(c.usl.map(Self.number) ?? "–") \(c.unit)"),
                        "inputs": .list((1...c.subgroupSize).map { ["n": .int($0)] }),
                        "due": due[c.code].map { .string("\($0.status.rawValue.replacingOccurrences(of: "_", with: " ")) (\(Self.clock($0.dueAt)))") } ?? .null,
                        "overdue": .bool(due[c.code]?.status == .overdue), "form_token": .string(SessionService.randomHex(16)),
                    ]
                }),
                "instruction": instruction.map { i in
                    [
                        "title": .string(i.title), "version": .int(i.version), "html": .string(i.html),
                        "signed": .list(i.signatures.map { .string("\($0.signerName), \($0.meaning.rawValue), \(Self.clock($0.signedAt))") }),
                    ]
                } ?? .null,
            ]
        }
        return try render("tablet/machine", values, session: page.session, request: page.request)
    }

    static func clock(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: date)
    }
}
