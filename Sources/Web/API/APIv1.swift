import Domain
import Foundation
import HTTP
import JSON
import Logging
import Postgres
import Services

/// The REST API, `/api/v1`, for ERPs and tools without a connector: work orders in (create,
/// update, release, CSV import), and the plant out (orders, WIP, machine states, OEE, the ERP
/// outbox ledger and replay); measurements in, lot traces, recall impact and holds out. Every call carries `Authorization: Bearer <token>` with the scope
/// its route needs; answers and errors are JSON. The contract is `docs/api/openapi.yaml`.
public struct APIv1: Sendable {
    let pool: PGPool
    let production: ProductionService
    let plant: PlantReadService
    let quality: QualityService
    let genealogy: GenealogyService
    let logger: Logger

    public init(pool: PGPool, production: ProductionService, plant: PlantReadService, logger: Logger = Logger(label: "mes.api")) {
        self.pool = pool
        self.production = production
        self.plant = plant
        quality = QualityService(pool: pool)
        genealogy = GenealogyService(pool: pool)
        self.logger = logger
    }

    /// Adds the API's routes to `router`; returns them as `METHOD /pattern` lines (for the
    /// test that holds them against the OpenAPI file).
    @discardableResult
    public func register(on router: inout Router) throws -> [String] {
        var routes = Routes(router: router)
        try route(&routes, "GET", "/api/v1/work-orders/:number", .plantRead) { _, context in
            try Self.json(production.workOrder(try context.parameter("number")))
        }
        try route(&routes, "PUT", "/api/v1/work-orders/:number", .ordersWrite) { request, context in
            let number = try context.parameter("number")
            let body = try Self.decode(WorkOrderBody.self, request)
            let outcome = try production.upsert(body.input(number: number))
            return (outcome == .created ? .created : .ok, ["outcome": .string(outcome.rawValue), "work_order": try Self.json(production.workOrder(number))])
        }
        try route(&routes, "POST", "/api/v1/work-orders/:number/release", .ordersWrite) { _, context in
            let number = try context.parameter("number")
            try production.release(workOrder: number)
            return try Self.json(production.workOrder(number))
        }
        try route(&routes, "POST", "/api/v1/work-orders/import", .ordersWrite) { request, _ in
            guard request.mediaType == "text/csv" else {
                throw HTTPError(.unsupportedMediaType, "send the file as text/csv")
            }
            let orders = try WorkOrderCSV.parse(String(decoding: request.body, as: UTF8.self))
            let outcomes = try production.upsert(all: orders)
            var counts: [String: JSONValue] = ["created": 0, "updated": 0, "unchanged": 0]
            for outcome in outcomes { counts[outcome.rawValue] = .number((counts[outcome.rawValue]?.doubleValue ?? 0) + 1) }
            return .object(counts)
        }
        try route(&routes, "GET", "/api/v1/sites/:site/wip", .plantRead) { _, context in
            .array(try production.workInProcess(site: try context.parameter("site")).map {
                ["operation": .string($0.operation), "quantity": .number($0.quantity), "lots": JSONValue($0.lots),
                 "oldest_age_seconds": .number($0.oldestAgeSeconds), "mean_age_seconds": .number($0.meanAgeSeconds)]
            })
        }
        try route(&routes, "GET", "/api/v1/sites/:site/machines", .plantRead) { _, context in
            .array(try plant.machineStates(site: try context.parameter("site")).map {
                ["machine": .string($0.machine), "name": .string($0.name), "line": JSONValue($0.line), "state": JSONValue($0.state),
                 "reason": JSONValue($0.reason), "since": JSONValue($0.since)]
            })
        }
        try route(&routes, "GET", "/api/v1/sites/:site/oee", .plantRead) { request, context in
            let query = try request.query()
            let (from, to) = try Self.window(query["from"], query["to"])
            return .array(try plant.oee(site: try context.parameter("site"), from: from, to: to).map(Self.json))
        }
        try route(&routes, "GET", "/api/v1/sites/:site/attainment", .plantRead) { request, context in
            let query = try request.query()
            let (from, to) = try Self.window(query["from"], query["to"])
            let site = try context.parameter("site")
            switch query["by"] ?? "day" {
            case "day":
                return .array(try production.scheduleAttainment(site: site, from: from, to: to).map {
                    ["day": .string($0.day), "shift": nil, "start": nil, "end": nil, "planned": .number($0.planned), "produced": .number($0.produced),
                     "attainment": $0.attainment.map(JSONValue.number) ?? nil]
                })
            case "shift":
                return .array(try production.shiftAttainment(site: site, from: from, to: to).map {
                    ["day": .string($0.day), "shift": .string($0.shift), "start": JSONValue($0.start), "end": JSONValue($0.end),
                     "planned": .number($0.planned), "produced": .number($0.produced), "attainment": $0.attainment.map(JSONValue.number) ?? nil]
                })
            case let other:
                throw HTTPError(.badRequest, "by must be day or shift, not '\(other)'")
            }
        }
        try route(&routes, "GET", "/api/v1/outbox", .erpAdmin) { request, _ in
            let query = try request.query()
            let state = query["state"]
            if let state, !["pending", "sent", "skipped", "dead"].contains(state) {
                throw HTTPError(.badRequest, "state must be pending, sent, skipped or dead")
            }
            let limit = try query["limit"].map { text throws(HTTPError) in
                guard let limit = Int(text), (1...1000).contains(limit) else { throw HTTPError(.badRequest, "limit must be from 1 to 1000") }
                return limit
            } ?? 100
            return .array(try Outbox.ledger(state: state, limit: limit, pool).map(\.json))
        }
        try route(&routes, "POST", "/api/v1/outbox/:id/replay", .erpAdmin) { _, context in
            guard let id = Int64(try context.parameter("id")) else { throw HTTPError(.badRequest, "the id must be a whole number") }
            guard try Outbox.replay(id: id, pool) else {
                throw HTTPError(.conflict, "outbox entry \(id) does not exist or is not dead")
            }
            return ["id": JSONValue(id), "state": "pending"]
        }
        try registerQuality(&routes)
        router = routes.router
        return routes.lines
    }

    // MARK: Plumbing

    typealias Handler = @Sendable (HTTPRequest, RequestContext) throws -> (HTTPStatus, JSONValue)

    /// A handler that answers in another format than JSON (a CSV export); errors are still JSON.
    typealias RawHandler = @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse

    /// The router being filled, and what was added to it.
    struct Routes {
        var router: Router
        var lines: [String] = []
    }

    func route(_ routes: inout Routes, _ method: String, _ pattern: String, _ scope: APIScope,
               _ handler: @escaping @Sendable (HTTPRequest, RequestContext) throws -> JSONValue) throws {
        try route(&routes, method, pattern, scope) { request, context in (.ok, try handler(request, context)) }
    }

    func route(_ routes: inout Routes, _ method: String, _ pattern: String, _ scope: APIScope, _ handler: @escaping Handler) throws {
        try route(&routes, method, pattern, scope, raw: { request, context in
            let (status, body) = try handler(request, context)
            return .json(Array(body.encoded()), status: status)
        })
    }

    func route(_ routes: inout Routes, _ method: String, _ pattern: String, _ scope: APIScope, raw handler: @escaping RawHandler) throws {
        let pool = pool
        let logger = logger
        routes.lines.append("\(method) \(pattern)")
        try routes.router.add(method, pattern) { request, context in
            do {
                let token = try Self.authorize(request, scope, pool)
                context.logger[metadataKey: "token"] = "\(token.prefix)"
                return try handler(request, context)
            } catch {
                let (status, code, message, headers) = Self.problem(error)
                if status == .internalServerError {
                    logger.error("API request failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
                }
                let body: JSONValue = ["error": ["code": .string(code), "message": .string(message)]]
                var response = HTTPResponse.json(Array(body.encoded()), status: status)
                for field in headers { response.headers.set(field.name, field.value) }
                return response
            }
        }
    }

    static func authorize(_ request: HTTPRequest, _ scope: APIScope, _ pool: PGPool) throws -> APITokens.Token {
        let challenge: HTTPHeaders = ["WWW-Authenticate": "Bearer realm=\"mes\""]
        guard let header = request.headers["Authorization"], header.lowercased().hasPrefix("bearer ") else {
            throw HTTPError(.unauthorized, "send an API token: Authorization: Bearer mes_…", headers: challenge)
        }
        guard let token = try APITokens.authenticate(String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), pool) else {
            throw HTTPError(.unauthorized, "the token is unknown, wrong or revoked", headers: challenge)
        }
        guard token.scopes.contains(scope) else {
            throw HTTPError(.forbidden, "the token '\(token.name)' lacks the scope \(scope.rawValue)")
        }
        return token
    }

    /// An error as status, code and message.
    static func problem(_ error: any Error) -> (HTTPStatus, String, String, HTTPHeaders) {
        switch error {
        case let error as HTTPError:
            let code = switch error.status.code {
            case 401: "unauthorized"
            case 403: "forbidden"
            case 409: "conflict"
            case 415: "unsupported_media_type"
            default: "bad_request"
            }
            return (error.status, code, error.message, error.headers)
        case let error as ProductionRuleError:
            let status: HTTPStatus = switch error.code {
            case .notFound: .notFound
            case .invalidInput, .badQuantity, .reasonRequired: .unprocessableContent
            case .signatureRejected, .signerNotAllowed: .forbidden
            default: .conflict
            }
            return (status, error.code.rawValue, error.message, HTTPHeaders())
        case let error as WorkOrderCSV.CSVProblems:
            return (.unprocessableContent, "invalid_csv", error.description, HTTPHeaders())
        case let error as DecodingError:
            return (.badRequest, "invalid_json", describe(error), HTTPHeaders())
        default:
            return (.internalServerError, "internal", "the server could not answer; the error is in its log", HTTPHeaders())
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return path.isEmpty ? "the body" : path
        }
        switch error {
        case .keyNotFound(let key, _): return "the field \(key.stringValue) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context): return "\(path(context)): \(context.debugDescription)"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "the body is not the JSON this call takes"
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, _ request: HTTPRequest) throws -> T {
        guard request.mediaType == "application/json" else { throw HTTPError(.unsupportedMediaType, "send JSON (Content-Type: application/json)") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(type, from: Data(request.body))
    }

    /// The `from` and `to` query parameters, RFC 3339 times.
    static func window(_ fromText: String?, _ toText: String?) throws(HTTPError) -> (Date, Date) {
        guard let fromText, let toText else { throw HTTPError(.badRequest, "give the window as from and to, RFC 3339 times") }
        guard let from = try? Date(fromText, strategy: .iso8601), let to = try? Date(toText, strategy: .iso8601) else {
            throw HTTPError(.badRequest, "from and to must be RFC 3339 times, e.g. 2026-11-23T06:00:00Z")
        }
        return (from, to)
    }

    static func json(_ order: ProductionService.WorkOrderStatus) -> JSONValue {
        [
            "number": .string(order.number), "reference": JSONValue(order.reference), "part": .string(order.part), "site": .string(order.site),
            "quantity": .number(order.quantity), "state": .string(order.state), "planned_start": JSONValue(order.plannedStart), "due": JSONValue(order.due),
            "erp_ref": JSONValue(order.erpRef),
            "operations": .array(order.operations.map {
                ["sequence": JSONValue($0.sequence), "name": .string($0.name), "state": .string($0.state.rawValue), "machine": JSONValue($0.machine),
                 "good": .number($0.good), "scrap": .number($0.scrap), "rework": .number($0.rework)]
            }),
        ]
    }

    static func json(_ machine: PlantReadService.MachineOEE) -> JSONValue {
        var object: [String: JSONValue] = [
            "machine": .string(machine.machine), "error": JSONValue(machine.error),
            "parts_without_ideal_cycle": .array(machine.partsWithoutIdealCycle.map(JSONValue.string)),
        ]
        if let r = machine.result {
            object["availability"] = .number(r.availability)
            object["performance"] = .number(r.performance)
            object["quality"] = .number(r.quality)
            object["oee"] = .number(r.oee)
            object["planned_production_seconds"] = .number(r.plannedProductionSeconds)
            object["run_seconds"] = .number(r.runSeconds)
            object["total_count"] = JSONValue(r.totalCount)
            object["good_count"] = JSONValue(r.goodCount)
            object["flags"] = .array(r.flags.map(JSONValue.string))
        }
        return .object(object)
    }
}

/// The body of `PUT /api/v1/work-orders/{number}`.
struct WorkOrderBody: Decodable {
    struct Operation: Decodable {
        var sequence: Int
        var name: String
        var machine: String?
        var idealCycleSeconds: Double?
    }

    var part: String
    var quantity: Double
    var site: String
    var reference: String?
    var plannedStart: Date?
    var due: Date?
    var priority: Int?
    var release: Bool?
    var operations: [Operation]?

    func input(number: String) -> WorkOrderInput {
        WorkOrderInput(
            number: number, part: part, quantity: quantity, site: site, reference: reference, plannedStart: plannedStart, due: due,
            priority: priority, release: release,
            operations: operations?.map { WorkOrderInput.Operation(sequence: $0.sequence, name: $0.name, machine: $0.machine, idealCycleSeconds: $0.idealCycleSeconds) })
    }
}
