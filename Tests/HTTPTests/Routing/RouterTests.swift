import HTTP
import Testing

struct RouterTests {
    private func router() throws -> Router {
        var router = Router()
        for (method, pattern) in [
            ("GET", "/"), ("GET", "/machines"), ("POST", "/machines"), ("GET", "/machines/:id"),
            ("GET", "/machines/new"), ("GET", "/machines/:id/timeline"), ("DELETE", "/machines/:id"),
            ("GET", "/static/*file"),
        ] {
            try router.add(method, pattern) { _, _ in .text("\(method) \(pattern)") }
        }
        return router
    }

    private func pattern(_ match: Router.Match) -> String? {
        if case .found(let route, _) = match { return route.pattern }
        return nil
    }

    @Test func router_matchesLiteralsBeforeParameters() throws {
        let router = try router()
        #expect(pattern(router.match(method: "GET", segments: [])) == "/")
        #expect(pattern(router.match(method: "GET", segments: ["machines", "new"])) == "/machines/new")
        guard case .found(let route, let parameters) = router.match(method: "GET", segments: ["machines", "M 01", "timeline"]) else {
            Issue.record("no match"); return
        }
        #expect(route.pattern == "/machines/:id/timeline")
        #expect(parameters == ["id": "M 01"])
    }

    @Test func router_wildcardTakesTheRestOfThePath() throws {
        guard case .found(_, let parameters) = try router().match(method: "GET", segments: ["static", "css", "site.css"]) else {
            Issue.record("no match"); return
        }
        #expect(parameters == ["file": "css/site.css"])
    }

    @Test func router_answers405WithAllow_andServesHeadWithGet() throws {
        let router = try router()
        guard case .methodNotAllowed(let allow) = router.match(method: "PUT", segments: ["machines", "7"]) else {
            Issue.record("expected 405"); return
        }
        #expect(allow == ["DELETE", "GET", "HEAD"])
        #expect(pattern(router.match(method: "HEAD", segments: ["machines"])) == "/machines")
    }

    @Test func router_unknownPathIsNotFound() throws {
        guard case .notFound = try router().match(method: "GET", segments: ["nothing", "here"]) else {
            Issue.record("expected 404"); return
        }
    }

    @Test func router_refusesDuplicateAndClashingRoutes() throws {
        var router = try router()
        #expect(throws: RouterError.self) { try router.get("/machines/:id") { _, _ in .text("") } }
        #expect(throws: RouterError.self) { try router.get("/machines/:machine/counts") { _, _ in .text("") } }
        #expect(throws: RouterError.self) { try router.get("/files/*rest/more") { _, _ in .text("") } }
        #expect(throws: RouterError.self) { try router.get("relative") { _, _ in .text("") } }
    }
}
