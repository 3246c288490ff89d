import Foundation
import HTTPClient
import JSON
import Services

/// The MES's link to Tryton 8.2 (modules production, production_routing, production_work and
/// production_work_timesheet): pulls master data and orders, pushes what the floor did.
///
/// What each outbox message becomes in Tryton (docs/erp.md has the whole mapping):
/// - `operationDone`: one work cycle on the operation's `production.work`, run and done, with
///   the operation's setup plus run time as its duration. The production is started first
///   (`assign_try` then `run` when it is still waiting or assigned).
/// - `labor`: a `timesheet.line` on the work's timesheet work, for the operator's employee.
/// - `scrap`: a message in the production's chat (Tryton's production has no scrap record),
///   with the quantity, the operation and the reason code.
/// - `orderDone`: the good quantity on the production's output move, then `production.do`.
///
/// Every push first looks for what an earlier attempt may have made (a done cycle on the work,
/// a timesheet line or chat message carrying the entry's key, a done production), so a retry
/// after a lost answer never makes a second record.
public final class TrytonConnector: ERPConnector, ERPSource {
    public let client: TrytonClient

    public init(client: TrytonClient) {
        self.client = client
    }

    public convenience init(settings: TrytonSettings) {
        self.init(client: TrytonClient(settings: settings))
    }

    // MARK: Push

    public func push(_ message: OutboxMessage, idempotencyKey key: String) throws(ERPError) -> ERPReceipt {
        switch message {
        case .operationDone(let done): try pushCycle(done)
        case .labor(let line): try pushLabor(line, key: key)
        case .scrap(let scrap): try pushScrap(scrap, key: key)
        case .orderDone(let order): try pushCompletion(order)
        }
    }

    private func pushCycle(_ done: OperationDone) throws(ERPError) -> ERPReceipt {
        guard let production = Int(done.operation.workOrderRef ?? ""), let work = Int(done.operation.operationRef ?? "") else {
            return .skipped("work order \(done.operation.workOrder) operation \(done.operation.sequence) did not come from Tryton")
        }
        let context = try employeeContext(done.employeeRef)
        if try startProduction(production, state: productionState(production), context: context) == "done" {
            return .sent("production \(production) is already done in Tryton")
        }
        let cycles = try client.searchRead("production.work.cycle", [["work", "=", .number(Double(work))]], fields: ["state"])
        if let cycle = cycles.first(where: { $0["state"] == "done" }), let id = cycle["id"]?.intValue {
            return .sent("work \(work): cycle \(id) was already done")
        }
        // A draft or running cycle is one an earlier attempt made before its answer was lost.
        let id: Int
        if let open = cycles.first(where: { $0["state"] == "draft" || $0["state"] == "running" }), let openID = open["id"]?.intValue {
            id = openID
            if open["state"] == "draft" { _ = try client.call("production.work.cycle", "run", [[.number(Double(id))]], context: context) }
        } else {
            id = try createdID(client.call("production.work.cycle", "create", [[["work": .number(Double(work))]]], context: context), "cycle")
            _ = try client.call("production.work.cycle", "run", [[.number(Double(id))]], context: context)
        }
        let seconds = max(1, (done.runSeconds + done.setupSeconds).rounded())
        _ = try client.call("production.work.cycle", "write", [[.number(Double(id))], ["duration": TrytonValue.timedelta(seconds: seconds)]],
                            context: context)
        _ = try client.call("production.work.cycle", "do", [[.number(Double(id))]], context: context)
        return .sent("work \(work): cycle \(id) done, \(Int(seconds)) s")
    }

    private func pushLabor(_ line: LaborLine, key: String) throws(ERPError) -> ERPReceipt {
        guard let work = Int(line.operation.operationRef ?? "") else {
            return .skipped("work order \(line.operation.workOrder) operation \(line.operation.sequence) did not come from Tryton")
        }
        guard let employee = Int(line.employeeRef ?? "") else {
            return .skipped("\(line.username) has no Tryton employee (app_user.employee_ref); labor not booked")
        }
        let rows = try client.searchRead("production.work", [["id", "=", .number(Double(work))]], fields: ["timesheet_work"])
        guard let timesheetWork = rows.first?["timesheet_work"]?.intValue else {
            return .skipped("work \(work) keeps no timesheet in Tryton (its operation is not timesheet-enabled)")
        }
        let marker = "[mes \(key)]"
        let existing = try client.searchRead(
            "timesheet.line", [["work", "=", .number(Double(timesheetWork))], ["description", "like", .string("%\(marker)")]], fields: [])
        if let id = existing.first?["id"]?.intValue {
            return .sent("timesheet line \(id) was already booked")
        }
        let values: JSONValue = [
            "work": .number(Double(timesheetWork)), "employee": .number(Double(employee)), "date": TrytonValue.date(line.startedAt),
            "duration": TrytonValue.timedelta(seconds: line.seconds.rounded()),
            "description": .string("\(line.username), work order \(line.operation.workOrder) operation \(line.operation.sequence) \(marker)"),
        ]
        let id = try createdID(client.call("timesheet.line", "create", [[values]], context: try employeeContext(line.employeeRef)), "timesheet line")
        return .sent("timesheet line \(id): \(Int(line.seconds.rounded())) s for employee \(employee)")
    }

    private func pushScrap(_ scrap: ScrapLine, key: String) throws(ERPError) -> ERPReceipt {
        guard let production = Int(scrap.operation.workOrderRef ?? "") else {
            return .skipped("work order \(scrap.operation.workOrder) did not come from Tryton")
        }
        let resource = JSONValue.string("production,\(production)")
        let marker = "[mes \(key)]"
        let messages = try client.call("ir.chat.channel", "get", [resource])
        guard let list = messages.arrayValue else {
            throw ERPError(.malformedAnswer, "ir.chat.channel.get did not answer a list: \(BlockingHTTPClient.excerpt(messages.encoded()))")
        }
        if list.contains(where: { $0["content"]?.stringValue?.contains(marker) == true }) {
            return .sent("production \(production): the scrap message was already posted")
        }
        let quantity = scrap.quantity == scrap.quantity.rounded() ? String(Int(scrap.quantity)) : String(scrap.quantity)
        let text = "Scrap: \(quantity) at operation \(scrap.operation.sequence), reason \(scrap.reason) \(marker)"
        let id = try client.call("ir.chat.channel", "post", [resource, .string(text), "internal"])
        return .sent("production \(production): chat message \(id.intValue.map(String.init) ?? "?") '\(text)'")
    }

    private func pushCompletion(_ order: OrderDone) throws(ERPError) -> ERPReceipt {
        guard let production = Int(order.workOrderRef ?? "") else {
            return .skipped("work order \(order.workOrder) did not come from Tryton")
        }
        let context = try employeeContext(nil)
        let header = try productionRecord(production)
        guard let product = header["product"]?.intValue else {
            throw ERPError(.malformedAnswer, "production \(production) has no product")
        }
        if try startProduction(production, state: header["state"]?.stringValue ?? "", context: context) == "done" {
            return .sent("production \(production) was already done")
        }
        let outputs = try client.searchRead(
            "stock.move", [["production_output", "=", .number(Double(production))], ["product", "=", .number(Double(product))],
                           ["state", "in", ["staging", "draft", "assigned"]]], fields: ["quantity"])
        guard let move = outputs.first?["id"]?.intValue else {
            throw ERPError(.refused, "production \(production) has no open output move of its product to put \(order.good) good parts on")
        }
        _ = try client.call("stock.move", "write", [[.number(Double(move))], ["quantity": .number(order.good)]], context: context)
        _ = try client.call("production", "do", [[.number(Double(production))]], context: context)
        return .sent("production \(production) done: \(order.good) good on move \(move), \(order.scrap) scrapped")
    }

    /// Brings a production in `state` to running (reserving its materials first when it
    /// waits) and returns its state: running, or done when it already is.
    private func startProduction(_ id: Int, state current: String, context: [String: JSONValue]) throws(ERPError) -> String {
        var state = current
        if state == "waiting" {
            _ = try client.call("production", "assign_try", [[.number(Double(id))]], context: context)
            state = try productionState(id)
            if state == "waiting" {
                throw ERPError(.refused, "production \(id) waits for materials: Tryton could not reserve its inputs (assign_try)")
            }
        }
        if state == "assigned" {
            _ = try client.call("production", "run", [[.number(Double(id))]], context: context)
            state = try productionState(id)
        }
        guard state == "running" || state == "done" else {
            throw ERPError(.refused, "production \(id) is \(state) in Tryton; it cannot take floor data")
        }
        return state
    }

    private func productionState(_ id: Int) throws(ERPError) -> String {
        try productionRecord(id)["state"]?.stringValue ?? ""
    }

    /// A production's state and product.
    private func productionRecord(_ id: Int) throws(ERPError) -> [String: JSONValue] {
        let rows = try client.searchRead("production", [["id", "=", .number(Double(id))]], fields: ["state", "product"])
        guard let row = rows.first, row["state"]?.stringValue != nil else {
            throw ERPError(.refused, "Tryton has no production \(id) (deleted, or not visible to \(client.settings.user))")
        }
        return row
    }

    /// The context naming who did the work: the operator's employee when the MES user may act
    /// for it, else the MES user's own employee.
    private func employeeContext(_ ref: String?) throws(ERPError) -> [String: JSONValue] {
        let login = try client.login()
        if let ref, let employee = Int(ref), login.employees.contains(employee) { return ["employee": .number(Double(employee))] }
        return login.employee.map { ["employee": .number(Double($0))] } ?? [:]
    }

    private func createdID(_ answer: JSONValue, _ what: String) throws(ERPError) -> Int {
        guard let id = answer.arrayValue?.first?.intValue else {
            throw ERPError(.malformedAnswer, "creating a \(what) answered \(BlockingHTTPClient.excerpt(answer.encoded())), not [id]")
        }
        return id
    }

    // MARK: Pull

    /// Active and inactive records changed at or after `since`.
    private func changed(_ since: Date?, _ extra: [JSONValue] = [], archived: Bool = true) -> JSONValue {
        var domain = extra
        if archived { domain.append(["active", "in", [true, false]]) }
        if let since { domain.append(["last_modified_at", ">=", TrytonValue.datetime(since)]) }
        return .array(domain)
    }

    private func newest(_ rows: [[String: JSONValue]]) -> Date? {
        rows.compactMap { TrytonValue.instant($0["last_modified_at"]) }.max()
    }

    private func ref(_ value: JSONValue?) -> String? { value?.intValue.map(String.init) }

    public func workCenters(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPWorkCenter> {
        let rows = try client.searchRead("production.work.center", changed(since), fields: ["name", "children", "active", "last_modified_at"])
        var centers: [ERPWorkCenter] = []
        for row in rows where row["children"]?.arrayValue?.isEmpty ?? true {
            guard let ref = ref(row["id"]), let name = row["name"]?.stringValue else { continue }
            centers.append(ERPWorkCenter(ref: ref, name: name, active: row["active"]?.boolValue ?? true))
        }
        return ERPChanges(records: centers, newest: newest(rows))
    }

    public func parts(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPPart> {
        let rows = try client.searchRead(
            "product.product", changed(since, [["type", "!=", "service"]]), fields: ["code", "name", "default_uom.symbol", "active", "last_modified_at"])
        var parts: [ERPPart] = []
        for row in rows {
            guard let ref = ref(row["id"]) else { continue }
            let code = row["code"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? "TRYTON-\(ref)"
            parts.append(ERPPart(
                ref: ref, code: code, name: row["name"]?.stringValue ?? code, unit: row["default_uom."]?["symbol"]?.stringValue ?? "u",
                active: row["active"]?.boolValue ?? true))
        }
        return ERPChanges(records: parts, newest: newest(rows))
    }

    public func employees(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPEmployee> {
        let rows = try client.searchRead("company.employee", changed(since, archived: false), fields: ["rec_name", "active", "last_modified_at"])
        var employees: [ERPEmployee] = []
        for row in rows {
            guard let ref = ref(row["id"]), let name = row["rec_name"]?.stringValue else { continue }
            employees.append(ERPEmployee(ref: ref, name: name, active: row["active"]?.boolValue ?? true))
        }
        return ERPChanges(records: employees, newest: newest(rows))
    }

    public func bills(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPBill> {
        let rows = try client.searchRead("production.bom", changed(since), fields: ["name", "active", "last_modified_at"])
        let ids = JSONValue.array(rows.compactMap { $0["id"] })
        let inputs = try client.searchRead("production.bom.input", [["bom", "in", ids]], fields: ["bom", "product", "quantity", "unit.symbol"])
        let outputs = try client.searchRead("production.bom.output", [["bom", "in", ids]], fields: ["bom", "product", "quantity"])
        var bills: [ERPBill] = []
        for row in rows {
            guard let id = row["id"], let ref = ref(id) else { continue }
            let output = outputs.first { $0["bom"] == id }
            let components = inputs.filter { $0["bom"] == id }.compactMap { input -> ERPBill.Component? in
                guard let part = self.ref(input["product"]), let quantity = TrytonValue.number(input["quantity"]) else { return nil }
                return ERPBill.Component(partRef: part, quantity: quantity, unit: input["unit."]?["symbol"]?.stringValue ?? "u")
            }
            bills.append(ERPBill(
                ref: ref, name: row["name"]?.stringValue ?? "BOM \(ref)", partRef: self.ref(output?["product"]) ?? "",
                outputQuantity: TrytonValue.number(output?["quantity"]) ?? 1, components: components, active: row["active"]?.boolValue ?? true))
        }
        return ERPChanges(records: bills, newest: newest(rows))
    }

    public func routings(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPRouting> {
        let rows = try client.searchRead("production.routing", changed(since), fields: ["name", "boms", "active", "last_modified_at"])
        let ids = JSONValue.array(rows.compactMap { $0["id"] })
        let steps = try client.searchRead(
            "production.routing.step", [["routing", "in", ids]], fields: ["routing", "sequence", "operation.name", "operation.work_center_category"],
            order: [["sequence", "ASC"], ["id", "ASC"]])
        let boms = JSONValue.array(Array(Set(rows.flatMap { $0["boms"]?.arrayValue ?? [] })))
        let outputs = try client.searchRead("production.bom.output", [["bom", "in", boms]], fields: ["bom", "product"])
        let centers = try centersByCategory()
        var routings: [ERPRouting] = []
        for row in rows {
            guard let id = row["id"], let ref = ref(id) else { continue }
            // A Tryton routing serves the BOMs that name it; the MES routing belongs to the part
            // the first of them makes.
            let bom = (row["boms"]?.arrayValue ?? []).first { bom in outputs.contains { $0["bom"] == bom } }
            let part = outputs.first { $0["bom"] == bom }.flatMap { self.ref($0["product"]) } ?? ""
            let operations = steps.filter { $0["routing"] == id }.compactMap { step -> ERPOperation? in
                guard let stepRef = self.ref(step["id"]) else { return nil }
                let category = step["operation."]?["work_center_category"]?.intValue
                return ERPOperation(
                    ref: stepRef, sequence: step["sequence"]?.intValue ?? 0, name: step["operation."]?["name"]?.stringValue ?? "Operation",
                    workCenterRef: category.flatMap { centers[$0] })
            }
            routings.append(ERPRouting(
                ref: ref, name: row["name"]?.stringValue ?? "Routing \(ref)", partRef: part, operations: operations,
                active: row["active"]?.boolValue ?? true))
        }
        return ERPChanges(records: routings, newest: newest(rows))
    }

    /// The work center of each category that has exactly one (Tryton picks among several at
    /// random when an order waits, so the routing cannot say which).
    private func centersByCategory() throws(ERPError) -> [Int: String] {
        let rows = try client.searchRead("production.work.center", [["category", "!=", nil]], fields: ["category", "children"])
        var byCategory: [Int: [String]] = [:]
        for row in rows where row["children"]?.arrayValue?.isEmpty ?? true {
            if let category = row["category"]?.intValue, let ref = ref(row["id"]) { byCategory[category, default: []].append(ref) }
        }
        return byCategory.compactMapValues { $0.count == 1 ? $0[0] : nil }
    }

    public func workOrders(changedSince since: Date?) throws(ERPError) -> ERPChanges<ERPWorkOrder> {
        let states: JSONValue = since == nil ? ["waiting", "assigned"] : ["waiting", "assigned", "cancelled"]
        let rows = try client.searchRead(
            "production", changed(since, [["state", "in", states]], archived: false),
            fields: ["number", "reference", "state", "product", "quantity", "routing", "bom", "planned_start_date", "planned_date", "last_modified_at"],
            order: [["last_modified_at", "ASC"], ["id", "ASC"]])
        var works: [JSONValue: [[String: JSONValue]]] = [:]
        var start = 0
        while start < rows.count {
            let ids = JSONValue.array(rows[start..<min(start + 500, rows.count)].compactMap { $0["id"] })
            start += 500
            let page = try client.searchRead(
                "production.work", [["production", "in", ids]], fields: ["production", "sequence", "operation.name", "work_center"],
                order: [["sequence", "ASC"], ["id", "ASC"]])
            for work in page { if let production = work["production"] { works[production, default: []].append(work) } }
        }
        var orders: [ERPWorkOrder] = []
        for row in rows {
            guard let id = row["id"], let ref = ref(id), let part = self.ref(row["product"]) else { continue }
            let operations = (works[id] ?? []).compactMap { work -> ERPOperation? in
                guard let workRef = self.ref(work["id"]) else { return nil }
                return ERPOperation(
                    ref: workRef, sequence: work["sequence"]?.intValue ?? 0, name: work["operation."]?["name"]?.stringValue ?? "Operation",
                    workCenterRef: self.ref(work["work_center"]))
            }
            orders.append(ERPWorkOrder(
                ref: ref, number: row["number"]?.stringValue ?? "MO-\(ref)", reference: row["reference"]?.stringValue,
                status: row["state"] == "cancelled" ? .cancelled : .open, partRef: part, quantity: TrytonValue.number(row["quantity"]) ?? 0,
                routingRef: self.ref(row["routing"]), billRef: self.ref(row["bom"]), plannedStart: TrytonValue.day(row["planned_start_date"]),
                due: TrytonValue.day(row["planned_date"]), operations: operations))
        }
        return ERPChanges(records: orders, newest: newest(rows))
    }
}
