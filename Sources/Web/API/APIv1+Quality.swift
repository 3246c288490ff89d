import Domain
import Foundation
import HTTP
import JSON
import Services

/// The quality routes of `/api/v1`: measurements in (judged at once, as from the tablet), and
/// lot traces (JSON or CSV), recall impact and open holds out.
extension APIv1 {
    func registerQuality(_ routes: inout Routes) throws {
        try route(&routes, "POST", "/api/v1/measurements", .qualityWrite) { request, _ in
            let result = try quality.record(try Self.decode(MeasurementBody.self, request).input())
            return (result.duplicate ? .ok : .created, Self.json(result))
        }
        try route(&routes, "POST", "/api/v1/genealogy", .qualityWrite) { request, _ in
            let body = try Self.decode(GenealogyBody.self, request)
            let id = try genealogy.record(
                operationID: body.operationId, consumed: body.consumed.map(\.lotQuantity), produced: body.produced.map(\.lotQuantity), by: nil, requestKey: body.requestKey)
            return (.created, ["transformation_id": JSONValue(id)])
        }
        try route(&routes, "GET", "/api/v1/lots/:part/:lot/trace", .qualityRead, raw: { request, context in
            let query = try request.query()
            let direction: GenealogyService.Direction
            switch query["direction"] ?? "backward" {
            case "backward": direction = .backward
            case "forward": direction = .forward
            case let other: throw HTTPError(.badRequest, "direction must be backward or forward, not '\(other)'")
            }
            let steps = try genealogy.trace(part: try context.parameter("part"), lot: try context.parameter("lot"), direction)
            switch query["format"] ?? "json" {
            case "json":
                return .json(Array(JSONValue.array(steps.map(Self.json)).encoded()))
            case "csv":
                var response = HTTPResponse(contentType: "text/csv; charset=utf-8", body: Array(GenealogyService.csv(steps).utf8))
                response.headers.set("Content-Disposition", "attachment; filename=\"trace.csv\"")
                return response
            case let other:
                throw HTTPError(.badRequest, "format must be json or csv, not '\(other)'")
            }
        })
        try route(&routes, "GET", "/api/v1/lots/:part/:lot/recall", .qualityRead) { _, context in
            .array(try genealogy.recallImpact(part: try context.parameter("part"), lot: try context.parameter("lot")).map {
                ["part": .string($0.part), "lot": .string($0.lot), "kind": .string($0.kind.rawValue), "quantity": .number($0.quantity),
                 "work_order": JSONValue($0.workOrder), "end_item": .bool($0.endItem), "on_hold": .bool($0.onHold)]
            })
        }
        try route(&routes, "GET", "/api/v1/holds", .qualityRead) { _, _ in
            .array(try quality.openHolds().map {
                ["id": JSONValue($0.id), "subject": .string($0.subject), "source": .string($0.source), "reason": .string($0.reason),
                 "since": JSONValue($0.since)]
            })
        }
    }

    static func json(_ result: QualityService.MeasurementResult) -> JSONValue {
        [
            "measurement_id": JSONValue(result.measurementID), "duplicate": .bool(result.duplicate), "mean": .number(result.mean),
            "out_of_specification": .bool(result.outOfSpecification), "in_control": .bool(result.inControl),
            "center": result.check.map { .number($0.center) } ?? nil, "ucl": result.check.map { .number($0.ucl) } ?? nil,
            "lcl": result.check.map { .number($0.lcl) } ?? nil, "signals": .array((result.check?.signals ?? []).map(JSONValue.string)),
            "alarm_id": result.alarmID.map { JSONValue($0) } ?? nil, "hold_id": result.holdID.map { JSONValue($0) } ?? nil,
            "nonconformance_id": result.nonconformanceID.map { JSONValue($0) } ?? nil,
        ]
    }

    static func json(_ step: GenealogyService.TraceStep) -> JSONValue {
        [
            "depth": JSONValue(step.depth), "part": .string(step.part), "lot": .string(step.lot), "kind": .string(step.kind.rawValue),
            "quantity": .number(step.quantity), "via": .string(step.via), "work_order": JSONValue(step.workOrder),
            "operation": step.operation.map { JSONValue($0) } ?? nil, "machine": JSONValue(step.machine), "operator": JSONValue(step.operatorName),
            "at": JSONValue(step.at),
        ]
    }
}

/// The body of `POST /api/v1/genealogy`: what an operation consumed and produced.
struct GenealogyBody: Decodable {
    struct Flow: Decodable {
        var part: String
        var lot: String
        var quantity: Double
        var kind: String?

        var lotQuantity: GenealogyService.LotQuantity {
            GenealogyService.LotQuantity(part: part, lot: lot, quantity: quantity, kind: kind == "serial" ? .serial : .lot)
        }
    }

    var operationId: Int64
    var consumed: [Flow]
    var produced: [Flow]
    var requestKey: String?
}

/// The body of `POST /api/v1/measurements`: the operation by id, or the machine whose
/// running operation takes it.
struct MeasurementBody: Decodable {
    var operationId: Int64?
    var site: String?
    var machine: String?
    var characteristic: String
    var values: [Double]
    var requestKey: String?

    func input() throws -> QualityService.MeasurementInput {
        let target: QualityService.MeasurementInput.Target
        switch (operationId, site, machine) {
        case (let id?, nil, nil): target = .operation(id)
        case (nil, let site?, let machine?): target = .machine(site: site, machine: machine)
        default: throw HTTPError(.badRequest, "give either operation_id, or site and machine")
        }
        return QualityService.MeasurementInput(target: target, characteristic: characteristic, values: values, source: .api, requestKey: requestKey)
    }
}
