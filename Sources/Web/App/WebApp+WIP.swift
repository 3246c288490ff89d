import Domain
import Foundation
import HTTP
import Services
import Templating

/// The WIP board (open orders by operation, each cell colored and labelled by how long its
/// parts have waited) and dispatch (an operation to a machine and an operator).
extension WebApp {
    static let dispatchers: Set<String> = ["supervisor"]
    static let wipReaders: Set<String> = ["supervisor", "manager"]

    func registerWIP(_ routes: inout PageRoutes) throws {
        let app = self
        try page(&routes, "GET", "/wip/:site", roles: Self.wipReaders) { page in
            let site = try page.parameter("site")
            guard try app.plant.sites().contains(where: { $0.code == site }) else { throw HTTPError(.notFound, "There is no site \(site).") }
            let cells = try app.production.wipBoard(site: site)
            let choices = try app.production.dispatchChoices(site: site)
            var orders: [(String, [WIPBoardCell])] = []
            for cell in cells {
                if orders.last?.0 == cell.workOrder { orders[orders.count - 1].1.append(cell) } else { orders.append((cell.workOrder, [cell])) }
            }
            return try app.render("wip", [
                "title": .string("WIP — \(site)"), "site": .string(site), "has_orders": .bool(!orders.isEmpty),
                "machines": .list(choices.machines.map(TemplateValue.string)), "operators": .list(choices.operators.map(TemplateValue.string)),
                "orders": .list(orders.map { number, cells in
                    [
                        "number": .string(number), "part": .string(cells[0].part), "due": .string(cells[0].due.map(Self.clock) ?? "–"),
                        "cells": .list(cells.map { c in
                            let age = c.state == .complete ? "done" : Self.duration(c.ageSeconds)
                            let band = c.state == .complete ? "done" : c.ageSeconds < 4 * 3_600 ? "fresh" : c.ageSeconds < 24 * 3_600 ? "aging" : "old"
                            return [
                                "id": .string(String(c.operationID)), "sequence": .int(c.sequence), "name": .string(c.name), "state": .string(c.state.rawValue),
                                "machine": .string(c.machine ?? "–"), "operator": .string(c.operatorName ?? "–"), "age": .string(age), "band": .string(band),
                                "progress": .string("\(Self.number(c.good)) / \(Self.number(c.planned))"),
                                "dispatchable": .bool(c.state == .queued || c.state == .paused),
                                "choices": .list(choices.machines.map { ["code": .string($0), "current": .bool($0 == c.machine)] }),
                            ]
                        }),
                    ]
                }),
            ], session: page.session, request: page.request)
        }
        try page(&routes, "POST", "/wip/operations/:id/dispatch", roles: Self.dispatchers) { page in
            let operatorName = page.form["operator"].flatMap { $0.isEmpty ? nil : $0 }
            try app.production.dispatch(
                operationID: try page.id("id"), machine: try page.form.required("machine", "the machine"), operator: operatorName, by: page.session.username)
            return Self.done(Self.localPath(page.form["back"]), notice: "Dispatched.")
        }
    }
}
