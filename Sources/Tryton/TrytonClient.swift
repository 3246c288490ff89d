import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPClient
import JSON
import Services
import Workers

/// Where and as whom the MES talks to Tryton.
public struct TrytonSettings: Sendable, Equatable {
    /// The server's base URL, e.g. `http://erp.example:8000`.
    public var url: String
    public var database: String
    public var user: String
    public var password: String
    /// Seconds before a call counts as unreachable.
    public var timeout: Double

    public init(url: String, database: String, user: String, password: String, timeout: Double = 30) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.database = database
        self.user = user
        self.password = password
        self.timeout = timeout
    }
}

/// A JSON-RPC client for Tryton 8 (`POST /<database>/rpc/`).
///
/// It logs in on first use and again whenever Tryton answers 401 (a restarted database, an
/// expired session), and sends the user's company and language as the context every model
/// call needs. Every failure is an `ERPError`: `unreachable` for the network, timeouts, 5xx
/// and throttled logins; `refused` for Tryton's business errors and other 4xx; and
/// `malformedAnswer` for a body that is not the JSON-RPC envelope.
///
/// Tryton labels answers over 1400 bytes `Content-Encoding: gzip` whether or not it compressed
/// them: over `http://` the client asks for no compression, so the body is plain; over
/// `https://` URLSession asks for gzip and decompresses. Both read right.
public final class TrytonClient: Sendable {
    public let settings: TrytonSettings
    private let http: BlockingHTTPClient
    private let state = Locked<Login?>(nil)

    /// A session and what Tryton says about its user.
    public struct Login: Sendable, Equatable {
        public var userID: Int
        var header: String
        public var company: Int?
        /// The user's own employee and every employee it may act for.
        public var employee: Int?
        public var employees: [Int]
    }

    public init(settings: TrytonSettings) {
        self.settings = settings
        http = BlockingHTTPClient(timeout: settings.timeout)
    }

    /// The current login, logging in if there is none.
    public func login() throws(ERPError) -> Login {
        if let login = state.withLock({ $0 }) { return login }
        let answer = try authorized(post(method: "common.db.login", params: [.string(settings.user), ["password": .string(settings.password)], "en"],
                                         authorization: nil), "common.db.login")
        guard let parts = answer.arrayValue, parts.count >= 2, let userID = parts[0].intValue, let key = parts[1].stringValue else {
            throw ERPError(.malformedAnswer, "Tryton's login answer is not [user, key, …]: \(BlockingHTTPClient.excerpt(answer.encoded()))")
        }
        let token = Data("\(settings.user):\(userID):\(key)".utf8).base64EncodedString()
        var login = Login(userID: userID, header: "Session \(token)", company: nil, employee: nil, employees: [])
        let preferences = try authorized(
            post(method: "model.res.user.get_preferences", params: [true, [:]], authorization: login.header), "get_preferences")
        login.company = preferences["company"]?.intValue
        login.employee = preferences["employee"]?.intValue
        login.employees = preferences["employees"]?.arrayValue?.compactMap(\.intValue) ?? []
        state.withLock { $0 = login }
        return login
    }

    /// Calls `model.<model>.<method>` with `arguments` and the context (company, language,
    /// plus `context`, e.g. the employee who did the work).
    public func call(_ model: String, _ method: String, _ arguments: [JSONValue], context: [String: JSONValue] = [:]) throws(ERPError) -> JSONValue {
        for _ in 1...2 {
            let login = try login()
            var fullContext: [String: JSONValue] = ["language": "en"]
            if let company = login.company { fullContext["company"] = .number(Double(company)) }
            fullContext.merge(context) { $1 }
            let reply = try post(method: "model.\(model).\(method)", params: arguments + [.object(fullContext)], authorization: login.header)
            if case .result(let result) = reply { return result }
            // Tryton forgot the session (a restarted or restored database, expiry): log in again, once.
            state.withLock { $0 = nil }
        }
        throw ERPError(.refused, "Tryton refused a fresh session of \(settings.user) for \(model).\(method) (401)")
    }

    /// `search_read` over all pages of `pageSize`.
    public func searchRead(
        _ model: String, _ domain: JSONValue, fields: [String], order: JSONValue = [["id", "ASC"]], pageSize: Int = 1000,
        context: [String: JSONValue] = [:]
    ) throws(ERPError) -> [[String: JSONValue]] {
        var rows: [[String: JSONValue]] = []
        while true {
            let page = try call(model, "search_read", [domain, .number(Double(rows.count)), .number(Double(pageSize)), order,
                                                       .array(fields.map(JSONValue.string))], context: context)
            guard let records = page.arrayValue else {
                throw ERPError(.malformedAnswer, "\(model).search_read did not answer a list: \(BlockingHTTPClient.excerpt(page.encoded()))")
            }
            for record in records {
                guard let object = record.objectValue else {
                    throw ERPError(.malformedAnswer, "\(model).search_read answered a non-record: \(BlockingHTTPClient.excerpt(record.encoded()))")
                }
                rows.append(object)
            }
            if records.count < pageSize { return rows }
        }
    }

    // MARK: Transport

    enum Reply {
        case result(JSONValue)
        /// 401: no session, or one Tryton no longer knows.
        case unauthorized
    }

    private func authorized(_ reply: Reply, _ method: String) throws(ERPError) -> JSONValue {
        guard case .result(let result) = reply else {
            throw ERPError(.refused, "Tryton refused \(method) for \(settings.user) (401: wrong password?)")
        }
        return result
    }

    private func post(method: String, params: [JSONValue], authorization: String?) throws(ERPError) -> Reply {
        let path = "/\(settings.database)/rpc/"
        guard let url = URL(string: settings.url + path) else { throw ERPError(.refused, "'\(settings.url + path)' is not a URL") }
        var request = URLRequest(url: url, timeoutInterval: settings.timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let envelope: JSONValue = ["id": 1, "method": .string(method), "params": .array(params)]
        request.httpBody = envelope.encoded()

        let status: Int, body: Data
        do {
            let response = try http.send(request)
            (status, body) = (response.status, response.body)
        } catch {
            throw ERPError(.unreachable, error.description)
        }
        switch status {
        case 200: break
        case 401: return .unauthorized
        case 429: throw ERPError(.unreachable, "Tryton throttles logins for \(settings.user) after failed attempts (429)")
        case 500...599: throw ERPError(.unreachable, "Tryton answered \(status) to \(method): \(BlockingHTTPClient.excerpt(body))")
        default: throw ERPError(.refused, "Tryton answered \(status) to \(method): \(BlockingHTTPClient.excerpt(body))")
        }
        let answer: JSONValue
        do {
            answer = try JSONValue.parse(body)
        } catch {
            throw ERPError(.malformedAnswer, "Tryton's answer to \(method) is not JSON: \(BlockingHTTPClient.excerpt(body))")
        }
        if let error = answer["error"], !error.isNull {
            // ["UserError", [message, description, domain]] or [text, traceback]
            let parts = error.arrayValue ?? []
            let kind = parts.first?.stringValue ?? "error"
            let detail = parts.count > 1 ? (parts[1].arrayValue?.first?.stringValue ?? parts[1].stringValue ?? "") : ""
            let text = kind == "UserError" || kind == "UserWarning" ? "\(kind): \(detail)" : "\(kind) \(detail)"
            throw ERPError(.refused, "Tryton refused \(method): \(text.trimmingCharacters(in: .whitespaces))")
        }
        guard let object = answer.objectValue, let result = object["result"], object["id"] == 1 else {
            throw ERPError(.malformedAnswer, "Tryton's answer to \(method) is not a JSON-RPC result: \(BlockingHTTPClient.excerpt(body))")
        }
        return .result(result)
    }
}
