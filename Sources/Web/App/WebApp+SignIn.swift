import Digest
import Domain
import Foundation
import HTTP
import Services
import Templating

/// Signing in and out: the office form (user name and password), the tablet's badge and PIN
/// at a machine, and the home page with what each role can open.
extension WebApp {
    static let everyone: Set<String> = ["operator", "supervisor", "quality", "manager", "admin"]

    func registerSignIn(_ routes: inout PageRoutes) throws {
        let app = self
        routes.lines.append("GET /login public")
        try routes.router.add("GET", "/login") { request, _ in
            app.signInPage(request, next: (try? request.query()["next"]) ?? "/", message: nil, status: .ok)
        }
        routes.lines.append("POST /login public")
        try routes.router.add("POST", "/login") { request, _ in
            do {
                let form = try Form(request)
                try app.checkSignInToken(request, form)
                let next = Self.localPath(form["next"])
                guard app.limiter.allowed(request.remoteAddress) else {
                    throw HTTPError(.tooManyRequests, "Too many failed sign-ins from this device. Wait five minutes.")
                }
                do {
                    let (token, _) = try app.sessions.signIn(
                        username: try form.required("username", "the user name"), password: form["password"] ?? "", remoteAddress: request.remoteAddress)
                    var response = HTTPResponse.redirect(to: next)
                    response.headers.add("Set-Cookie", app.cookie(Self.sessionCookie, token))
                    response.headers.add("Set-Cookie", app.cookie(Self.signInCookie, "", maxAge: 0))
                    return response
                } catch let error as ProductionRuleError where error.code == .signatureRejected {
                    app.limiter.failed(request.remoteAddress)
                    return app.signInPage(request, next: next, message: Self.sentence(error.message), status: .unauthorized)
                }
            } catch {
                return app.errorPage(error, request: request)
            }
        }
        routes.lines.append("GET /tablet/:site/:machine/sign-in public")
        try routes.router.add("GET", "/tablet/:site/:machine/sign-in") { request, context in
            app.badgePage(request, site: try context.parameter("site"), machine: try context.parameter("machine"), message: nil, status: .ok)
        }
        routes.lines.append("POST /tablet/:site/:machine/sign-in public")
        try routes.router.add("POST", "/tablet/:site/:machine/sign-in") { request, context in
            let site = try context.parameter("site")
            let machine = try context.parameter("machine")
            do {
                let form = try Form(request)
                try app.checkSignInToken(request, form)
                guard app.limiter.allowed(request.remoteAddress) else {
                    throw HTTPError(.tooManyRequests, "Too many failed sign-ins from this tablet. Wait five minutes.")
                }
                do {
                    let (token, _) = try app.sessions.signIn(
                        badge: try form.required("badge", "the badge"), pin: form["pin"] ?? "", site: site, machine: machine,
                        remoteAddress: request.remoteAddress)
                    var response = HTTPResponse.redirect(to: "/tablet/\(Self.percentEncoded(site))/\(Self.percentEncoded(machine))")
                    response.headers.add("Set-Cookie", app.cookie(Self.sessionCookie, token))
                    return response
                } catch let error as ProductionRuleError where error.code == .signatureRejected {
                    app.limiter.failed(request.remoteAddress)
                    return app.badgePage(request, site: site, machine: machine, message: "The badge or PIN is wrong.", status: .unauthorized)
                }
            } catch {
                return app.errorPage(error, request: request)
            }
        }
        try page(&routes, "POST", "/logout", roles: Self.everyone) { page in
            if let token = page.request.cookies[Self.sessionCookie] { try app.sessions.signOut(token: token) }
            let back = page.session.machine.map { "/tablet/\(Self.percentEncoded($0.site))/\(Self.percentEncoded($0.code))/sign-in" } ?? "/login"
            var response = HTTPResponse.redirect(to: back)
            response.headers.add("Set-Cookie", app.cookie(Self.sessionCookie, "", maxAge: 0))
            return response
        }
        try page(&routes, "GET", "/", roles: Self.everyone) { page in
            let sites = try app.plant.sites()
            return try app.render("home", ["title": "Home", "sites": .list(sites.map { ["code": .string($0.code), "name": .string($0.name)] })],
                                  session: page.session, request: page.request)
        }
    }

    /// The sign-in form, with a fresh token in a cookie and in the form (the double-submit
    /// defence: a form posted from another site cannot know it).
    func signInPage(_ request: HTTPRequest, next: String, message: String?, status: HTTPStatus) -> HTTPResponse {
        let token = SessionService.randomHex(32)
        var response = (try? render("login", ["title": "Sign in", "next": .string(Self.localPath(next)), "signin_token": .string(token),
                                              "message": message.map(TemplateValue.string) ?? .null], session: nil, status: status))
            ?? .text("sign-in page unavailable", status: .internalServerError)
        response.headers.add("Set-Cookie", cookie(Self.signInCookie, token))
        return response
    }

    func badgePage(_ request: HTTPRequest, site: String, machine: String, message: String?, status: HTTPStatus) -> HTTPResponse {
        let token = SessionService.randomHex(32)
        var response = (try? render("tablet/sign-in", ["title": .string("Sign in at \(machine)"), "site": .string(site), "machine": .string(machine),
                                                       "signin_token": .string(token), "message": message.map(TemplateValue.string) ?? .null],
                                    session: nil, status: status))
            ?? .text("sign-in page unavailable", status: .internalServerError)
        response.headers.add("Set-Cookie", cookie(Self.signInCookie, token))
        return response
    }

    func checkSignInToken(_ request: HTTPRequest, _ form: Form) throws {
        guard let cookie = request.cookies[Self.signInCookie], let sent = form["_csrf"], !cookie.isEmpty,
            constantTimeEqual(Array(cookie.utf8), Array(sent.utf8))
        else { throw HTTPError(.forbidden, "The sign-in form has expired. Reload the page and sign in again.") }
    }

    /// `path` if it is a path on this site, else `/`: a sign-in never sends anyone elsewhere.
    static func localPath(_ path: String?) -> String {
        guard let path, path.hasPrefix("/"), !path.hasPrefix("//"), !path.contains("\\"), !path.contains(where: { $0.isNewline }) else { return "/" }
        return path
    }
}
