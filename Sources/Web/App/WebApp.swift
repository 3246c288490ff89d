import Digest
import Domain
import Foundation
import HTTP
import Logging
import Postgres
import Services
import Templating
import Workers

/// The web application: server-rendered pages for operators (tablet), supervisors (wall
/// screen), quality and managers, on the service layer that the API and the collector use.
///
/// Every page route names the roles that may open it. A request without a session is sent to
/// the sign-in page (GET) or refused with 401 (POST); a session without one of the roles gets
/// 403. Every POST carries the session's CSRF token in the field `_csrf`, compared in constant
/// time. Refusals of the rules come back as a page with the matching status (409, 422, 403,
/// 404) and the service's words; successes redirect (303) with a notice, so a reload never
/// posts twice. Forms that record something carry a one-time token the services keep, so a
/// resubmission after a lost answer is recognised (tablets on bad Wi-Fi).
public struct WebApp: Sendable {
    let pool: PGPool
    let templates: TemplateLibrary
    let sessions: SessionService
    let production: ProductionService
    let plant: PlantReadService
    let quality: QualityService
    let genealogy: GenealogyService
    let instructions: WorkInstructionService
    let limiter: SignInLimiter
    let dayCache = ExpiringCache<OEECalculator.Result?>(seconds: 600)
    let liveCache = ExpiringCache<[PlantReadService.MachineOEE]>(seconds: 5)
    /// Rendered plant overviews and wall screens (a few views each, so few entries).
    let overviewPages = ExpiringCache<SharedPage?>(seconds: 5, capacity: 64)
    let wallPages = ExpiringCache<SharedPage?>(seconds: 2, capacity: 64)
    /// The live events the wall screens follow; a wall page names its position in them, so
    /// the screen's event stream starts where the page was rendered, whatever its age.
    let liveEvents: SSEHub?
    let secureCookies: Bool
    let logger: Logger

    /// The session cookie's name, and the cookie that protects the sign-in form.
    static let sessionCookie = "mes_session"
    static let signInCookie = "mes_signin"

    /// - Parameters:
    ///   - secureCookies: mark cookies `Secure` (set it whenever users reach the server over
    ///     HTTPS, directly or through a proxy).
    ///   - liveEvents: the hub behind `/events`, when the server has one.
    public init(pool: PGPool, templates: TemplateLibrary, secureCookies: Bool, liveEvents: SSEHub? = nil,
                clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "mes.web")) {
        self.pool = pool
        self.templates = templates
        sessions = SessionService(pool: pool, clock: clock)
        production = ProductionService(pool: pool, clock: clock)
        plant = PlantReadService(pool: pool, clock: clock)
        quality = QualityService(pool: pool, clock: clock)
        genealogy = GenealogyService(pool: pool, clock: clock)
        instructions = WorkInstructionService(pool: pool, clock: clock)
        limiter = SignInLimiter(clock: clock)
        self.secureCookies = secureCookies
        self.liveEvents = liveEvents
        self.logger = logger
    }

    /// Adds the pages to `router`; returns them as `METHOD /pattern roles` lines (for the
    /// authorization test, which tries every route with every role).
    @discardableResult
    public func register(on router: inout Router) throws -> [String] {
        var routes = PageRoutes(router: router)
        try registerSignIn(&routes)
        try registerTablet(&routes)
        try registerOverride(&routes)
        try registerWall(&routes)
        try registerQuality(&routes)
        try registerSPC(&routes)
        try registerPlant(&routes)
        try registerMachine(&routes)
        try registerWIP(&routes)
        try registerAdmin(&routes)
        try registerAuthoring(&routes)
        try registerSetup(&routes)
        try registerPlantAdmin(&routes)
        router = routes.router
        return routes.lines
    }

    // MARK: Plumbing

    struct PageRoutes {
        var router: Router
        var lines: [String] = []
    }

    /// What a page handler gets: the request, the signed-in session, and the form of a POST.
    struct PageRequest {
        var request: HTTPRequest
        var context: RequestContext
        var session: SessionService.Session
        var form: Form

        func parameter(_ name: String) throws -> String { try context.parameter(name) }

        func id(_ name: String) throws -> Int64 {
            guard let id = Int64(try context.parameter(name)) else { throw HTTPError(.notFound, "there is no such record") }
            return id
        }
    }

    typealias PageHandler = @Sendable (PageRequest) throws -> HTTPResponse

    /// A page any of `roles` may open.
    func page(
        _ routes: inout PageRoutes, _ method: String, _ pattern: String, roles: Set<String>,
        signIn: (@Sendable (RequestContext) -> String)? = nil, _ handler: @escaping PageHandler
    ) throws {
        routes.lines.append("\(method) \(pattern) \(roles.sorted().joined(separator: ","))")
        let app = self
        try routes.router.add(method, pattern) { request, context in
            do {
                guard let token = request.cookies[Self.sessionCookie], let session = try app.sessions.session(token: token) else {
                    if method == "GET" {
                        if let signIn { return .redirect(to: signIn(context)) }
                        let target = request.path + (request.rawQuery.map { "?" + $0 } ?? "")
                        return .redirect(to: "/login?next=" + Self.percentEncoded(target))
                    }
                    throw HTTPError(.unauthorized, "You are signed out. Sign in again, then send the form once more.")
                }
                guard !session.roles.isDisjoint(with: roles) else {
                    throw HTTPError(.forbidden, "This page is for \(roles.sorted().joined(separator: ", ")); \(session.username) has \(session.roles.sorted().joined(separator: ", ")).")
                }
                var form = Form()
                if method == "POST" {
                    form = try Form(request)
                    guard let sent = form["_csrf"], constantTimeEqual(Array(sent.utf8), Array(session.csrfToken.utf8)) else {
                        throw HTTPError(.forbidden, "The form has expired or did not come from this site. Go back, reload the page and send it again.")
                    }
                }
                let started = ContinuousClock.now
                var response = try handler(PageRequest(request: request, context: context, session: session, form: form))
                // The page's own time (queries and rendering), for browsers' tools and scripts/bench-pages.
                let elapsed = ContinuousClock.now - started
                let milliseconds = Double(elapsed.components.seconds) * 1_000 + Double(elapsed.components.attoseconds) / 1e15
                response.headers.set("Server-Timing", "app;dur=\(String(format: "%.2f", milliseconds))")
                return response
            } catch {
                return app.errorPage(error, request: request)
            }
        }
    }

    /// Renders `template` inside the layout: the page's values, the viewer's part of the layout
    /// (the `chrome` template: menu for their roles, name, sign-out form) and the session's
    /// values for the page's own forms (`csrf`, `user`, `is_<role>`, `tablet`).
    func render(_ template: String, _ values: [String: TemplateValue], session: SessionService.Session?, status: HTTPStatus = .ok,
                request: HTTPRequest? = nil) throws -> HTTPResponse {
        let viewer = Self.viewer(session)
        var context = values.merging(viewer) { $1 }
        context["chrome"] = .string(String(decoding: try templates.render("chrome", TemplateValue.dictionary(viewer)), as: UTF8.self))
        Self.addNotices(request, to: &context)
        return Self.htmlPage(status, body: try templates.render(template, TemplateValue.dictionary(context)))
    }

    /// A page that is the same for every viewer allowed to open it (the plant overview, the wall
    /// screen): rendered once per `cache` period under `key`, the viewer's part added per
    /// request. `values` must not use the session (it is computed for whoever comes first).
    /// With a nil key (a window in the past, say) the page is rendered as any other.
    func renderShared(_ template: String, key: String?, cache: ExpiringCache<SharedPage?>, session: SessionService.Session?, request: HTTPRequest,
                      _ values: () throws -> [String: TemplateValue]) throws -> HTTPResponse {
        guard let key else { return try render(template, try values(), session: session, request: request) }
        let shared = try cache.value(key) {
            var context = try values()
            context["chrome"] = .string(SharedPage.viewerMark)
            Self.addNotices(request, to: &context)
            return SharedPage(try templates.render(template, TemplateValue.dictionary(context)))
        }
        guard let shared else { return try render(template, try values(), session: session, request: request) }
        let chrome = try templates.render("chrome", TemplateValue.dictionary(Self.viewer(session)))
        return Self.htmlPage(.ok, body: shared.before + chrome + shared.after)
    }

    /// The session's values for templates: `user`, `csrf`, `is_<role>` and `tablet`.
    static func viewer(_ session: SessionService.Session?) -> [String: TemplateValue] {
        guard let session else { return [:] }
        var values: [String: TemplateValue] = [
            "user": ["name": .string(session.displayName), "username": .string(session.username),
                     "roles": .string(session.roles.sorted().joined(separator: ", "))],
            "csrf": .string(session.csrfToken),
        ]
        for role in ["operator", "supervisor", "quality", "manager", "admin"] { values["is_\(role)"] = .bool(session.has(role)) }
        if let machine = session.machine { values["tablet"] = ["site": .string(machine.site), "machine": .string(machine.code)] }
        return values
    }

    /// The notice or warning a redirect asked for (`?notice=`, `?warning=`).
    static func addNotices(_ request: HTTPRequest?, to context: inout [String: TemplateValue]) {
        guard let request, let query = try? request.query() else { return }
        if let notice = query["notice"] { context["notice"] = .string(notice) }
        if let warning = query["warning"] { context["warning"] = .string(warning) }
    }

    /// An HTML page with the headers every page carries: never cached by the browser or a
    /// proxy, never framed, scripts and styles only from this server.
    static func htmlPage(_ status: HTTPStatus, body: [UInt8]) -> HTTPResponse {
        var response = HTTPResponse(status: status, contentType: "text/html; charset=utf-8", body: body)
        response.headers.set("Cache-Control", "no-store")
        response.headers.set("X-Frame-Options", "DENY")
        response.headers.set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
        return response
    }

    /// A refusal or failure as a page with the right status and words a person can act on.
    func errorPage(_ error: any Error, request: HTTPRequest) -> HTTPResponse {
        let (status, message): (HTTPStatus, String) = switch error {
        case let error as HTTPError: (error.status, Self.sentence(error.message))
        case let error as ProductionRuleError: (Self.status(error.code), Self.sentence(error.message))
        default: (.internalServerError, "The server could not do this; the error is in its log.")
        }
        if status == .internalServerError {
            logger.error("page failed", metadata: ["path": "\(request.path)", "error": "\(error)"])
        }
        let session = request.cookies[Self.sessionCookie].flatMap { try? sessions.session(token: $0) }
        let values: [String: TemplateValue] = ["title": .string(status.reason), "status": .int(status.code), "message": .string(message)]
        return (try? render("error", values, session: session, status: status))
            ?? .text("\(status.code) \(status.reason): \(message)\n", status: status)
    }

    /// A service's message as a sentence: capitalized, with a full stop.
    static func sentence(_ message: String) -> String {
        guard let first = message.first else { return message }
        let text = first.uppercased() + message.dropFirst()
        return text.hasSuffix(".") || text.hasSuffix("?") || text.hasSuffix("!") ? text : text + "."
    }

    static func status(_ code: ProductionRuleError.Code) -> HTTPStatus {
        switch code {
        case .notFound: .notFound
        case .invalidInput, .badQuantity, .reasonRequired: .unprocessableContent
        case .signatureRejected, .signerNotAllowed: .forbidden
        default: .conflict
        }
    }

    /// A 303 to `path` with a notice (or a warning) to show there.
    static func done(_ path: String, notice: String? = nil, warning: String? = nil) -> HTTPResponse {
        var query: [String] = []
        if let notice { query.append("notice=" + percentEncoded(notice)) }
        if let warning { query.append("warning=" + percentEncoded(warning)) }
        return .redirect(to: query.isEmpty ? path : path + (path.contains("?") ? "&" : "?") + query.joined(separator: "&"))
    }

    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        SetCookie(name: name, value: value, maxAge: maxAge, httpOnly: true, secure: secureCookies, sameSite: .lax).headerValue
    }
}

/// A POSTed form: URL-encoded fields, or multipart fields and files.
struct Form {
    var fields: [String: [String]] = [:]
    var files: [String: Upload] = [:]

    init() {}

    init(_ request: HTTPRequest) throws {
        if request.mediaType == "multipart/form-data" {
            for part in try request.multipartParts() {
                if let filename = part.filename {
                    if !part.body.isEmpty { files[part.name] = Upload(bytes: part.body, fileName: filename, contentType: part.contentType) }
                } else {
                    fields[part.name, default: []].append(String(decoding: part.body, as: UTF8.self))
                }
            }
        } else {
            for item in try request.formParameters().items { fields[item.name, default: []].append(item.value) }
        }
    }

    subscript(name: String) -> String? { fields[name]?.first }

    /// A field that must be there and not blank.
    func required(_ name: String, _ what: String) throws -> String {
        guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else {
            throw ProductionRuleError(.invalidInput, "\(what) is missing")
        }
        return value
    }

    func number(_ name: String, _ what: String) throws -> Double {
        let text = try required(name, what).replacingOccurrences(of: ",", with: ".")
        guard let value = Double(text), value.isFinite else { throw ProductionRuleError(.invalidInput, "\(what) must be a number, not '\(text)'") }
        return value
    }
}

/// Sign-in attempts per client address: at most `limit` failures in `window` seconds; then 429
/// until the oldest failure ages out. (The account lockout in the services stops guessing one
/// account's password; this stops trying many accounts from one place.)
final class SignInLimiter: Sendable {
    let limit = 10
    let window: TimeInterval = 300
    let clock: @Sendable () -> Date
    private let failures = Locked<[String: [Date]]>([:])

    init(clock: @escaping @Sendable () -> Date) { self.clock = clock }

    /// The client's address without its port (`HTTPRequest.remoteAddress` is `ip:port`).
    static func host(_ address: String) -> String {
        address.lastIndex(of: ":").map { String(address[..<$0]) } ?? address
    }

    func allowed(_ address: String) -> Bool {
        let address = Self.host(address)
        let now = clock()
        return failures.withLock { table in
            table[address] = table[address]?.filter { now.timeIntervalSince($0) < window }
            return (table[address]?.count ?? 0) < limit
        }
    }

    func failed(_ address: String) {
        let address = Self.host(address)
        let now = clock()
        failures.withLock { table in
            if table.count > 10_000 { table = table.filter { $0.value.contains { now.timeIntervalSince($0) < window } } }
            table[address, default: []].append(now)
        }
    }
}

/// Values kept for a while, for figures that are costly and change slowly (past days' OEE, the
/// shared part of live pages).
///
/// When a value has expired, the first caller computes the next one while the others go on
/// getting the old one: a page that many screens open at once costs one computation per
/// period, not one per request in flight. A failed computation leaves the old value in place
/// for the next caller to try again. At most `capacity` values are kept: past it, values are
/// computed and returned without being kept, so no stream of distinct keys fills the memory.
final class ExpiringCache<Value: Sendable>: Sendable {
    let seconds: TimeInterval
    let capacity: Int
    private struct Entry {
        var value: Value
        var expires: Date
        var refreshing: Bool
    }
    private let entries = Locked<[String: Entry]>([:])

    init(seconds: TimeInterval, capacity: Int = 1_000) {
        self.seconds = seconds
        self.capacity = capacity
    }

    func value(_ key: String, _ compute: () throws -> Value) rethrows -> Value {
        let now = Date()
        let kept: Value? = entries.withLock { table in
            guard let entry = table[key] else { return nil }
            if entry.expires > now || entry.refreshing { return entry.value }
            table[key]?.refreshing = true
            return nil
        }
        if let kept { return kept }
        do {
            let value = try compute()
            entries.withLock { table in
                if table.count >= capacity, table[key] == nil { table = table.filter { $0.value.expires > now || $0.value.refreshing } }
                guard table.count < capacity || table[key] != nil else { return }
                table[key] = Entry(value: value, expires: Date().addingTimeInterval(seconds), refreshing: false)
            }
            return value
        } catch {
            entries.withLock { $0[key]?.refreshing = false }
            throw error
        }
    }
}

/// A rendered page with a gap where the viewer's part of the layout goes.
struct SharedPage: Sendable {
    /// Stands in for the viewer's part while the shared page is rendered. Every value a
    /// template escapes has its `<` turned into `&lt;`, so the first occurrence is the layout's.
    static let viewerMark = "<!--mes:viewer-->"

    let before: [UInt8]
    let after: [UInt8]

    /// Nil when the page has no gap (a template that does not use the layout).
    init?(_ page: [UInt8]) {
        let mark = Array(Self.viewerMark.utf8)
        guard let start = page.indices.first(where: { page[$0...].starts(with: mark) }) else { return nil }
        before = Array(page[..<start])
        after = Array(page[(start + mark.count)...])
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
