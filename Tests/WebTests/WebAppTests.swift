import Domain
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP
import HTTPClient
import Postgres
import Services
import Templating
import TestSupport
import Testing
import Web

/// The web app on a real server and database, driven like a browser without JavaScript: a
/// cookie jar, forms with their CSRF tokens, redirects read, not followed.
struct WebAppTests {
    static let templates = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Templates").path

    /// One person per role (password "secret-<name>"), ana also with badge 0412 and PIN 1234;
    /// a released order WO-1 whose turning operation runs on M1, with a bore characteristic.
    static func withPlant<T>(liveEvents: SSEHub? = nil, _ body: (WebServer) throws -> T) throws -> T {
        try TestDatabase.withMigrated { url, db in
            try db.executeScript(unsafeSQL: """
                INSERT INTO site (code, name, time_zone) VALUES ('S1', 'Plant 1', 'UTC');
                INSERT INTO machine (site_id, code, name) SELECT id, 'M1', 'Lathe <1>' FROM site;
                INSERT INTO part (code, name) VALUES ('P-1', 'Shaft');
                INSERT INTO routing (part_id, name) SELECT id, 'r' FROM part;
                INSERT INTO routing_operation (routing_id, sequence, name, machine_id) SELECT r.id, 10, 'Turning <script>alert(1)</script>', m.id FROM routing r, machine m;
                INSERT INTO work_order (number, part_id, routing_id, site_id, quantity_planned) SELECT 'WO-1', p.id, r.id, s.id, 10 FROM part p, routing r, site s;
                INSERT INTO quality_characteristic (part_id, operation_sequence, code, name, lsl, usl) SELECT id, 10, 'BORE', 'Bore', 24.95, 25.05 FROM part;
                INSERT INTO reason_code (kind, code, description) VALUES ('scrap', 'DIM', 'Out of tolerance');
                """)
            let pool = PGPool(configuration: PGPoolConfiguration(url: url, maxConnections: 4))
            defer { pool.close() }
            let sessions = SessionService(pool: pool)
            for (name, role) in [("ana", "operator"), ("sue", "supervisor"), ("quinn", "quality"), ("mia", "manager"), ("adam", "admin")] {
                try sessions.addUser(
                    username: name, displayName: name.capitalized, roles: [role], password: "secret-\(name)", badge: name == "ana" ? "0412" : nil,
                    pin: name == "ana" ? "1234" : nil, iterations: 1_000, by: "test")
            }
            try ProductionService(pool: pool).release(workOrder: "WO-1")
            var router = Router()
            let app = WebApp(pool: pool, templates: try TemplateLibrary(directory: templates), secureCookies: false, liveEvents: liveEvents)
            let routes = try app.register(on: &router)
            let server = HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0, loopCount: 1, workerCount: 4), router: router)
            try server.start()
            defer { server.shutdown(gracePeriod: 1) }
            return try body(WebServer(port: server.port, pool: pool, routes: routes))
        }
    }

    @Test func signIn_redirects_refuses_andKeepsStrangersOut() throws {
        try Self.withPlant { server in
            var browser = Browser(port: server.port)
            var page = try browser.get("/")
            #expect(page.status == 303 && page.location == "/login?next=/")
            page = try browser.signIn("quinn", "wrong password", next: "/audit")
            #expect(page.status == 401 && page.text.contains("The user name or password is wrong"))
            page = try browser.signIn("quinn", "secret-quinn", next: "//evil.example/")
            #expect(page.status == 303 && page.location == "/")
            let cookie = try #require(browser.setCookies.first { $0.hasPrefix("mes_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))
            page = try browser.get("/")
            #expect(page.status == 200 && page.text.contains("Hello, Quinn"))
            // A form without the session's token, or with another one, is refused.
            #expect(try browser.post("/logout", [:], csrf: false).status == 403)
            #expect(try browser.post("/logout", ["_csrf": String(repeating: "0", count: 64)], csrf: false).status == 403)
            // A sign-in form posted without its cookie (from another site) is refused.
            var stranger = Browser(port: server.port)
            #expect(try stranger.post("/login", ["username": "quinn", "password": "secret-quinn", "_csrf": "x"], csrf: false).status == 403)
            #expect(try browser.post("/logout", [:]).status == 303)
            #expect(try browser.get("/").status == 303)

            // Session fixation: a session token planted before sign-in is not the one issued.
            var victim = Browser(port: server.port)
            let planted = String(repeating: "ab", count: 32)
            victim.cookies["mes_session"] = planted
            #expect(try victim.get("/").status == 303)
            #expect(try victim.signIn("quinn", "secret-quinn", next: "/").status == 303)
            #expect(victim.cookies["mes_session"] != planted && victim.cookies["mes_session"]?.count == 64)
        }
    }

    @Test func signIn_isRateLimitedPerAddress_andAccountsLockAfterFiveWrongPasswords() throws {
        try Self.withPlant { server in
            var browser = Browser(port: server.port)
            for _ in 0..<5 { #expect(try browser.signIn("mia", "nope", next: "/").status == 401) }
            // Locked now: even the right password is refused.
            #expect(try browser.signIn("mia", "secret-mia", next: "/").status == 401)
            for _ in 0..<4 { _ = try browser.signIn("adam", "nope", next: "/") }
            #expect(try browser.signIn("adam", "secret-adam", next: "/").status == 429)
            let refused = try server.pool.withConnection { db in
                try db.query("SELECT count(*) FROM audit_log WHERE action = 'session.refused'").decode(Int.self)
            }
            #expect(refused == [10])
        }
    }

    @Test func theOperatorFlow_signInByBadge_start_report_measure_andTheHold() throws {
        try Self.withPlant { server in
            var tablet = Browser(port: server.port)
            var page = try tablet.get("/tablet/S1/M1")
            #expect(page.status == 303 && page.location == "/tablet/S1/M1/sign-in")
            _ = try tablet.get("/tablet/S1/M1/sign-in")
            page = try tablet.post("/tablet/S1/M1/sign-in", ["badge": "0412", "pin": "9999"], csrf: true, signInForm: true)
            #expect(page.status == 401 && page.text.contains("The badge or PIN is wrong"))
            page = try tablet.post("/tablet/S1/M1/sign-in", ["badge": "0412", "pin": "1234"], csrf: true, signInForm: true)
            #expect(page.status == 303 && page.location == "/tablet/S1/M1")
            page = try tablet.get("/tablet/S1/M1")
            #expect(page.status == 200)
            #expect(page.text.contains("Turning &lt;script&gt;alert(1)&lt;/script&gt;") && !page.text.contains("<script>alert(1)"))
            let operation = try #require(page.first(#"action="/tablet/operations/(\d+)/action""#))

            page = try tablet.post("/tablet/operations/\(operation)/action", ["action": "start", "back": "/tablet/S1/M1"])
            #expect(page.status == 303 && page.location?.hasPrefix("/tablet/S1/M1?op=\(operation)&notice=") == true)
            page = try tablet.get(page.location!)
            #expect(page.text.contains("The operation is running now."))
            let token = try #require(page.first(#"name="form_token" value="([0-9a-f]+)""#))
            page = try tablet.post("/tablet/operations/\(operation)/report", ["kind": "good", "quantity": "4", "form_token": token, "back": "/tablet/S1/M1"])
            #expect(page.status == 303 && page.location?.contains("Recorded%204%20good") == true)
            // The tablet lost the answer and sends the same form again.
            page = try tablet.post("/tablet/operations/\(operation)/report", ["kind": "good", "quantity": "4", "form_token": token, "back": "/tablet/S1/M1"])
            #expect(page.location?.contains("Already%20recorded") == true)
            page = try tablet.upload(
                "/tablet/operations/\(operation)/report", ["kind": "scrap", "quantity": "1", "reason": "DIM", "back": "/tablet/S1/M1"],
                file: ("photo", "chip.png", "image/png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]))
            #expect(page.status == 303 && page.location?.contains("Recorded%201%20scrap") == true)
            page = try tablet.upload(
                "/tablet/operations/\(operation)/report", ["kind": "scrap", "quantity": "1", "reason": "DIM", "back": "/tablet/S1/M1"],
                file: ("photo", "evil.png", "image/png", Array("<svg onload=alert(1)>".utf8)))
            #expect(page.status == 422 && page.text.contains("not a JPEG, PNG or WebP picture"))
            page = try tablet.post("/tablet/operations/\(operation)/report", ["kind": "scrap", "quantity": "1", "back": "/tablet/S1/M1"])
            #expect(page.status == 422 && page.text.contains("Scrap needs a reason code."))

            page = try tablet.post("/tablet/operations/\(operation)/measure", ["characteristic": "BORE", "value": "25.01", "back": "/tablet/S1/M1"])
            #expect(page.location?.contains("in%20control") == true)
            page = try tablet.post("/tablet/operations/\(operation)/measure", ["characteristic": "BORE", "value": "25,2", "back": "/tablet/S1/M1"])
            #expect(page.location?.contains("warning=BORE%2025.2%3A%20OUT%20OF%20SPECIFICATION") == true)
            page = try tablet.get("/tablet/S1/M1")
            #expect(page.text.contains("ON HOLD"))
            page = try tablet.post("/tablet/operations/\(operation)/action", ["action": "start", "back": "/tablet/S1/M1"])
            #expect(page.status == 409 && page.text.contains("The operation is on hold"))
            page = try tablet.post("/tablet/operations/\(operation)/measure", ["characteristic": "BORE", "value": "abc", "back": "/tablet/S1/M1"])
            #expect(page.status == 422)

            let reports = try server.pool.withConnection { db in
                try db.query("SELECT kind, quantity::int, attachment_id IS NOT NULL FROM production_report ORDER BY id").decode((String, Int, Bool).self)
            }
            #expect(reports.map { "\($0.0) \($0.1) \($0.2)" } == ["good 4 false", "scrap 1 true"])

            // Quality gives the nonconformance its disposition, signed, and releases the hold.
            var office = Browser(port: server.port)
            #expect(try office.signIn("quinn", "secret-quinn", next: "/quality").status == 303)
            page = try office.get("/quality")
            let nc = try #require(page.first(#"href="/quality/nonconformances/(\d+)""#))
            let hold = try #require(page.first(#"action="/quality/holds/(\d+)/release""#))
            page = try office.post("/quality/holds/\(hold)/release", ["reason": "Looks fine"])
            #expect(page.status == 409)
            page = try office.post("/quality/nonconformances/\(nc)/disposition", ["disposition": "use_as_is", "reason": "Within drawing note", "password": "guess"])
            #expect(page.status == 403)
            page = try office.post("/quality/nonconformances/\(nc)/disposition", ["disposition": "use_as_is", "reason": "Within drawing note", "password": "secret-quinn"])
            #expect(page.status == 303)
            page = try office.get("/quality/nonconformances/\(nc)")
            #expect(page.text.contains("Quinn, approved") && page.text.contains("record unchanged since signing"))
            #expect(try office.post("/quality/holds/\(hold)/release", ["reason": "Insert changed"]).status == 303)
            page = try office.get("/audit?verify=1")
            #expect(page.text.contains("Intact:"))
            #expect(try tablet.post("/tablet/operations/\(operation)/action", ["action": "start", "back": "/tablet/S1/M1"]).status == 303)
            // Signing out at the tablet books the operator's labor at the machine.
            #expect(try tablet.post("/logout", [:]).location == "/tablet/S1/M1/sign-in")
        }
    }

    @Test func theWallScreen_namesEachStateInWords() throws {
        try Self.withPlant { server in
            try server.pool.withConnection { db in
                try db.execute("""
                    INSERT INTO machine_status (machine_id, state, reason, since) SELECT id, 'unplanned_stop', NULL, now() - interval '90 minutes' FROM machine
                    """)
            }
            var browser = Browser(port: server.port)
            _ = try browser.signIn("sue", "secret-sue", next: "/")
            let page = try browser.get("/wall/S1")
            #expect(page.status == 200)
            #expect(page.text.contains(#"class="tile state-unplanned_stop andon""#))
            #expect(page.text.contains(#"<span class="label">Down</span>"#) && page.text.contains("No reason given") && page.text.contains("1 h 30 min"))
            #expect(page.text.contains("/static/wall.js"))
            #expect(try browser.get("/wall/NOPE").status == 404)
            // The kiosk of another line shows none of this line's machines.
            #expect(!(try browser.get("/wall/S1?line=L7").text.contains("tile-M1")))
        }
    }

    /// The plant overview and the wall are rendered once for everyone who opens them within a
    /// few seconds (a shift change, a restart: every screen at once); each viewer still gets
    /// their own name, menu and CSRF token, and the wall names the live event it was rendered at.
    @Test func sharedPages_areRenderedOnceForAll_yetEachViewerGetsTheirOwnNameAndToken() throws {
        let hub = SSEHub()
        hub.publish(data: "an earlier event")
        try Self.withPlant(liveEvents: hub) { server in
            var sue = Browser(port: server.port)
            _ = try sue.signIn("sue", "secret-sue", next: "/")
            var mia = Browser(port: server.port)
            _ = try mia.signIn("mia", "secret-mia", next: "/")
            func content(_ page: Browser.Page) -> Substring { page.text[(page.text.range(of: "</header>")?.upperBound ?? page.text.startIndex)...] }
            for path in ["/plant/S1", "/wall/S1"] {
                let first = try sue.get(path)
                let second = try mia.get(path)
                #expect(first.status == 200 && second.status == 200, "\(path)")
                #expect(first.text.contains("Sue <small>(supervisor)</small>") && !first.text.contains("Mia <small>"), "\(path)")
                #expect(second.text.contains("Mia <small>(manager)</small>") && !second.text.contains("Sue <small>"), "\(path)")
                let tokens = [first, second].map { $0.first(#"name="_csrf" value="([^"]+)""#) }
                #expect(tokens[0] != nil && tokens[1] != nil && tokens[0] != tokens[1], "\(path)")
                #expect(!first.text.contains("<!--mes:viewer-->"), "\(path)")
                #expect(content(first) == content(second), "\(path)")
            }
            let wall = try sue.get("/wall/S1")
            #expect(wall.text.contains(#"data-after="\#(hub.resumeToken)""#))
            // Rendered once: a change shows on the next rendering, two seconds on (the screen
            // itself hears of it at once over /events).
            try server.pool.withConnection { db in
                try db.execute("INSERT INTO machine_status (machine_id, state, reason, since) SELECT id, 'setup', NULL, now() FROM machine")
            }
            #expect(!(try sue.get("/wall/S1").text.contains("state-setup")))
            Thread.sleep(forTimeInterval: 2.2)
            #expect(try sue.get("/wall/S1").text.contains("state-setup"))
        }
    }

    @Test func theSPCPage_drawsTheChart_marksAndExplainsEachSignal_andShowsCapability() throws {
        try Self.withPlant { server in
            let quality = QualityService(pool: server.pool)
            let operation: [Int64] = try server.pool.withConnection { db in try db.query("SELECT id FROM work_order_operation").decode(Int64.self) }
            let characteristic: [Int64] = try server.pool.withConnection { db in try db.query("SELECT id FROM quality_characteristic").decode(Int64.self) }
            try quality.freezeLimits(
                characteristicID: characteristic[0], center: 25, sigma: 0.01, effectiveFrom: Date().addingTimeInterval(-60), by: "quinn", reason: "Study")
            for value in [25.001, 24.995, 25.004, 25.036, 25.002] {
                _ = try quality.record(.init(target: .operation(operation[0]), characteristic: "BORE", values: [value], source: .api))
            }
            var browser = Browser(port: server.port)
            _ = try browser.signIn("quinn", "secret-quinn", next: "/spc")
            var page = try browser.get("/spc")
            #expect(page.text.contains("/spc/\(characteristic[0])") && page.text.contains("⚠ 1"))
            page = try browser.get("/spc/\(characteristic[0])")
            #expect(page.status == 200)
            #expect(page.text.contains("<svg") && page.text.contains("Individuals") && page.text.contains("Moving range"))
            #expect(page.text.contains("<strong>N1</strong>: a point beyond a control limit (3 sigma)"))
            #expect(page.text.contains("frozen limits (center 25.0, sigma 0.01)"))
            #expect(page.text.contains("Cpk") && page.text.contains("LSL 24.95"))
            #expect(try browser.get("/spc/424242").status == 404)
        }
    }

    /// The oee.com worked example ("Calculate OEE": availability 88.81 %, performance 86.11 %,
    /// quality 97.80 %, OEE 74.79 %) as one day's records, planned stops around the shift, read
    /// on the plant overview for that day.
    @Test func thePlantOverview_showsTheOEEComExampleForADay() throws {
        try Self.withPlant { server in
            try server.pool.withConnection { db in
                try db.executeScript(unsafeSQL: """
                    UPDATE routing_operation SET ideal_cycle_seconds = 1.0;
                    INSERT INTO machine_state_interval (machine_id, started_at, ended_at, state)
                        SELECT m.id, s, e, 'planned_stop' FROM machine m, (VALUES
                            ('2026-11-20 00:00+00'::timestamptz, '2026-11-20 06:00+00'::timestamptz),
                            ('2026-11-20 14:00+00', '2026-11-21 00:00+00')) AS x(s, e);
                    """ + OEEComExample.shiftSQL)
            }
            var browser = Browser(port: server.port)
            _ = try browser.signIn("mia", "secret-mia", next: "/")
            let page = try browser.get("/plant/S1?from=2026-11-20&to=2026-11-20")
            #expect(page.status == 200)
            for (name, value) in [("OEE", "74.8 %"), ("Availability", "88.8 %"), ("Performance", "86.1 %"), ("Quality", "97.8 %")] {
                #expect(page.text.contains(#"<span class="kpi-name">\#(name)</span> <strong class="kpi-value">\#(value)</strong>"#), "\(name)")
            }
            #expect(page.text.contains("18848 / 19271"))
            #expect(page.text.contains("Breakdowns") && page.text.contains("Losses (hours)"))
            #expect(try browser.get("/plant/S1?range=month").status == 400)
            // Narrowed to the shift, the figures are the example's own.
            try server.pool.withConnection { db in
                try db.execute("INSERT INTO shift_pattern (site_id, name, start_minute, end_minute) SELECT id, 'Early', 360, 840 FROM site")
            }
            let shift = try browser.get("/plant/S1?from=2026-11-20&to=2026-11-20&shift=Early")
            #expect(shift.text.contains("2026-11-20 to 2026-11-20, shift Early"))
            #expect(shift.text.contains(#"<span class="kpi-name">OEE</span> <strong class="kpi-value">74.8 %</strong>"#))
            #expect(try browser.get("/plant/S1?from=2026-11-20&to=2026-11-20&shift=Night").status == 400)
            // Ana ran P-1 on M1 for the whole shift: by part or by operator, the same figures.
            try server.pool.withConnection { db in
                try db.execute("""
                    INSERT INTO operation_activity (operation_id, machine_id, state, started_at, ended_at, user_id)
                    SELECT o.id, o.machine_id, 'running', '2026-11-20 06:00+00', '2026-11-20 14:00+00', u.id FROM work_order_operation o, app_user u
                    WHERE u.username = 'ana'
                    """)
            }
            for filter in ["part=P-1", "operator=ana"] {
                let filtered = try browser.get("/plant/S1?from=2026-11-20&to=2026-11-20&\(filter)")
                #expect(filtered.text.contains(#"<span class="kpi-name">OEE</span> <strong class="kpi-value">74.8 %</strong>"#), "\(filter)")
                #expect(filtered.text.contains("count only the time spent on"))
            }
            #expect(try browser.get("/plant/S1?from=2026-11-20&to=2026-11-20&operator=bob").status == 404)
            #expect(try browser.get("/plant/NOPE").status == 404)
        }
    }

    @Test func theMachinePage_drawsTheShift_andStopsAreClassifiedAndSplit() throws {
        try Self.withPlant { server in
            let stop: [Int64] = try server.pool.withConnection { db in
                try db.execute("""
                    INSERT INTO machine_state_interval (machine_id, started_at, ended_at, state)
                    SELECT id, now() - interval '50 minutes', now() - interval '30 minutes', 'running' FROM machine
                    """)
                return try db.query("""
                    INSERT INTO machine_state_interval (machine_id, started_at, ended_at, state)
                    SELECT id, now() - interval '30 minutes', now() - interval '10 minutes', 'unplanned_stop' FROM machine RETURNING id
                    """).decode(Int64.self)
            }
            var browser = Browser(port: server.port)
            _ = try browser.signIn("sue", "secret-sue", next: "/")
            var page = try browser.get("/machines/S1/M1")
            #expect(page.status == 200)
            #expect(page.text.contains("<h1>M1 Lathe &lt;1&gt; <small>"))
            #expect(page.text.contains("States, today") && page.text.contains(#"class="state-unplanned_stop""#) && page.text.contains("Down"))
            #expect(page.text.contains("Stops without a reason") && page.text.contains("Downtime by reason (minutes)"))
            page = try browser.post("/machines/S1/M1/stops/\(stop[0])/split", ["at": "yesterday"])
            #expect(page.status == 422)
            page = try browser.post("/machines/S1/M1/stops/\(stop[0])/classify", ["reason": "Coolant pump"])
            #expect(page.status == 303)
            page = try browser.get("/machines/S1/M1")
            #expect(!page.text.contains("Stops without a reason") && page.text.contains("Coolant pump"))
            let audited = try server.pool.withConnection { db in
                try db.query("SELECT actor, reason FROM audit_log WHERE action = 'stop.classified'").decode((String, String).self)
            }
            #expect(audited.map(\.0) == ["sue"] && audited.map(\.1) == ["Coolant pump"])
            #expect(try browser.get("/machines/S1/NOPE").status == 404)
        }
    }

    @Test func theWIPBoard_showsEachOperationWithItsAge_andSupervisorsDispatch() throws {
        try Self.withPlant { server in
            var browser = Browser(port: server.port)
            _ = try browser.signIn("sue", "secret-sue", next: "/")
            var page = try browser.get("/wip/S1")
            #expect(page.status == 200 && page.text.contains("WO-1") && page.text.contains("age fresh"))
            let operation = try #require(page.first(#"action="/wip/operations/(\d+)/dispatch""#))
            page = try browser.post("/wip/operations/\(operation)/dispatch", ["machine": "M9", "back": "/wip/S1"])
            #expect(page.status == 404 && page.text.contains("There is no active machine M9"))
            page = try browser.post("/wip/operations/\(operation)/dispatch", ["machine": "M1", "operator": "ana", "back": "/wip/S1"])
            #expect(page.status == 303 && page.location?.hasPrefix("/wip/S1?notice=Dispatched") == true)
            page = try browser.get("/wip/S1")
            #expect(page.text.contains("M1 · ana"))
            var manager = Browser(port: server.port)
            _ = try manager.signIn("mia", "secret-mia", next: "/")
            page = try manager.get("/wip/S1")
            #expect(page.status == 200 && !page.text.contains("/dispatch"))
            #expect(try manager.get("/wip/NOPE").status == 404)
        }
    }

    @Test func plantIT_readsTheLedgerAndTheDeadLetters_andReplaysADeadEntry() throws {
        try Self.withPlant { server in
            try server.pool.withConnection { db in
                try db.executeScript(unsafeSQL: """
                    INSERT INTO erp_outbox (idempotency_key, stream, kind, payload, state, attempts, last_error)
                        VALUES ('order:1', 'work_order:WO-1', 'order_done', '{}', 'dead', 8, 'production 7 is cancelled in the ERP');
                    INSERT INTO dead_letter (topic, payload, reason) VALUES ('mes/S1/A1/L1/M1/state', '<script>x</script>'::bytea, 'payload is not valid JSON');
                    """)
            }
            var browser = Browser(port: server.port)
            _ = try browser.signIn("adam", "secret-adam", next: "/")
            var page = try browser.get("/erp?state=dead")
            #expect(page.text.contains("production 7 is cancelled in the ERP") && page.text.contains("Replay"))
            let entry = try #require(page.first(#"action="/erp/(\d+)/replay""#))
            #expect(try browser.post("/erp/\(entry)/replay", [:]).status == 303)
            #expect(try browser.post("/erp/\(entry)/replay", [:]).status == 409)
            #expect(try browser.get("/erp?state=lost").status == 400)
            page = try browser.get("/dead-letters")
            #expect(page.text.contains("payload is not valid JSON") && page.text.contains("&lt;script&gt;x&lt;/script&gt;") && !page.text.contains("<script>x"))
        }
    }

    @Test func theShiftHandover_isPrepared_andSignedByTheOutgoingThenAnotherIncomingSupervisor() throws {
        try Self.withPlant { server in
            try server.pool.withConnection { db in
                try db.execute("INSERT INTO shift_pattern (site_id, name, start_minute, end_minute, weekdays) SELECT id, 'Day', 0, 1439, '1234567' FROM site")
            }
            try SessionService(pool: server.pool).addUser(
                username: "sam", displayName: "Sam", roles: ["supervisor"], password: "secret-sam", iterations: 1_000, by: "test")
            var outgoing = Browser(port: server.port)
            _ = try outgoing.signIn("sue", "secret-sue", next: "/")
            var page = try outgoing.post("/handover/S1/prepare", ["notes": "Spindle **M1** noisy.", "checklist": "5S walk\nGauges back", "done": "5S walk"])
            #expect(page.status == 303)
            page = try outgoing.get(page.location!)
            #expect(page.text.contains("<strong>M1</strong>") && page.text.contains("☑ 5S walk") && page.text.contains("☐ Gauges back"))
            let id = try #require(page.first(#"action="/handover/S1/(\d+)/sign""#))
            #expect(try outgoing.post("/handover/S1/\(id)/sign", ["meaning": "performed", "password": "nope"]).status == 403)
            #expect(try outgoing.post("/handover/S1/\(id)/sign", ["meaning": "performed", "password": "secret-sue"]).status == 303)
            #expect(try outgoing.post("/handover/S1/\(id)/sign", ["meaning": "reviewed", "password": "secret-sue"]).status == 403)
            var incoming = Browser(port: server.port)
            _ = try incoming.signIn("sam", "secret-sam", next: "/")
            #expect(try incoming.post("/handover/S1/\(id)/sign", ["meaning": "reviewed", "password": "secret-sam"]).status == 303)
            page = try incoming.get("/handover/S1?id=\(id)")
            #expect(page.text.contains("Sue, performed") && page.text.contains("Sam, reviewed") && !page.text.contains("/sign\""))
        }
    }

    @Test func qualityAuthors_instructionsWithPictures_characteristics_andQualifications() throws {
        try Self.withPlant { server in
            try SessionService(pool: server.pool).addUser(
                username: "quentin", displayName: "Quentin", roles: ["quality"], password: "secret-quentin", iterations: 1_000, by: "test")
            var author = Browser(port: server.port)
            _ = try author.signIn("quinn", "secret-quinn", next: "/")
            var page = try author.upload(
                "/instructions/draft", ["part": "P-1", "operation": "10", "title": "Clamp the bar", "body": "Chuck at **40 bar**. <script>x</script>"],
                file: ("picture", "chuck.png", "image/png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 9, 9, 9]))
            #expect(page.status == 303)
            page = try author.get(page.location!)
            let id = try #require(page.first(#"action="/instructions/(\d+)/release""#))
            let picture = try #require(page.first(#"src="/attachments/([0-9a-f]{64})""#))
            #expect(page.text.contains("<strong>40 bar</strong>") && !page.text.contains("<script>x"))
            #expect(try author.post("/instructions/\(id)/release", ["password": "secret-quinn"]).status == 403)
            var reviewer = Browser(port: server.port)
            _ = try reviewer.signIn("quentin", "secret-quentin", next: "/")
            #expect(try reviewer.post("/instructions/\(id)/release", ["password": "secret-quentin", "reason": "Checked"]).status == 303)
            let image = try reviewer.send("GET", "/attachments/\(picture)")
            #expect(image.status == 200)
            #expect(try reviewer.get("/attachments/\(String(repeating: "0", count: 64))").status == 404)

            page = try author.post("/characteristics", [
                "part": "P-1", "operation": "10", "code": "OD", "name": "Outer diameter", "lsl": "39.9", "usl": "40.1", "chart": "xbar_r",
                "subgroup_size": "5", "rule": "N1", "hold_on_signal": "on",
            ])
            #expect(page.status == 303)
            page = try author.post("/characteristics", ["part": "P-1", "operation": "10", "code": "ID", "name": "Inner", "chart": "xbar_r", "subgroup_size": "1"])
            #expect(page.status == 422)
            page = try author.get("/characteristics")
            #expect(page.text.contains("Outer diameter"))

            #expect(try author.post("/qualifications", ["what": "define", "code": "TURN-1", "description": "CNC turning"]).status == 303)
            #expect(try author.post("/qualifications", ["what": "require", "code": "TURN-1", "part": "P-1", "operation": "10"]).status == 303)
            #expect(try author.post("/qualifications", ["what": "grant", "code": "TURN-1", "user": "ana", "until": "2020-01-01"]).status == 422)
            #expect(try author.post("/qualifications", ["what": "grant", "code": "TURN-1", "user": "ana", "until": "2099-01-01"]).status == 303)
            page = try author.get("/qualifications")
            #expect(page.text.contains("P-1 operation 10 needs <strong>TURN-1</strong>") && page.text.contains("<td>ana</td><td>TURN-1</td>"))
        }
    }

    @Test func theAdmin_extendsThePlant_addsPeople_andSwitchesThemOff() throws {
        try Self.withPlant { server in
            var admin = Browser(port: server.port)
            _ = try admin.signIn("adam", "secret-adam", next: "/")
            #expect(try admin.post("/admin", ["what": "line", "site": "S1", "area": "A2", "line": "L9", "name": "Grinding"]).status == 303)
            #expect(try admin.post("/admin", ["what": "machine", "site": "S1", "line": "L9", "code": "G1", "name": "Grinder"]).status == 303)
            #expect(try admin.post("/admin", ["what": "machine", "site": "S1", "line": "L9", "code": "G1", "name": "Again"]).status == 422)
            #expect(try admin.post("/admin", ["what": "site", "code": "S2", "name": "Plant 2", "zone": "Mars/Olympus"]).status == 422)
            #expect(try admin.post("/admin", ["what": "shift", "site": "S1", "name": "Early", "from": "06:00", "to": "14:00", "break_at": "10:00"]).status == 303)
            #expect(try admin.post("/admin", ["what": "shift", "site": "S1", "name": "Late", "from": "25:00", "to": "14:00"]).status == 422)
            #expect(try admin.post("/admin", ["what": "reason", "kind": "scrap", "code": "SCR", "description": "Scratch"]).status == 303)
            #expect(try admin.post("/admin", ["what": "reason_off", "kind": "scrap", "code": "DIM"]).status == 303)
            #expect(try admin.post("/admin", ["what": "user", "username": "olga", "name": "Olga", "role": "operator", "password": "short"]).status == 422)
            #expect(try admin.post("/admin", ["what": "user", "username": "olga", "name": "Olga", "role": "operator", "password": "long-enough-1"]).status == 303)
            var page = try admin.get("/admin")
            #expect(page.text.contains("<td>G1</td><td>Grinder</td>") && page.text.contains("<td>Early</td><td>06:00</td><td>14:00</td>"))
            #expect(page.text.contains("<td>DIM</td><td>Out of tolerance</td><td>retired</td>") && page.text.contains("<td>olga</td><td>Olga</td><td>operator</td>"))
            // Switching someone off ends their sessions at once.
            var olga = Browser(port: server.port)
            #expect(try olga.signIn("olga", "long-enough-1", next: "/").status == 303)
            #expect(try admin.post("/admin", ["what": "user_off", "username": "olga"]).status == 303)
            #expect(try olga.get("/").status == 303)
            #expect(try admin.post("/admin", ["what": "user_off", "username": "adam"]).status == 422)
            page = try admin.get("/audit?actor=adam")
            #expect(page.text.contains("machine.added") && page.text.contains("user.changed"))
        }
    }

    /// Hostile text in every field the admin pages take, read back on every page that shows
    /// it: shown as text, stored as typed, and the SQL in it never run. Hostile query strings
    /// get an answer, never a server error.
    @Test func hostileText_inEveryAdminField_isShownAsText_storedAsTyped_andNeverRun() throws {
        let hostile = #"<script>alert("x")</script><img src=x onerror=alert(1)>' OR '1'='1'; DROP TABLE machine; --"#
        let escaped = #"&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&#39; OR &#39;1&#39;=&#39;1&#39;; DROP TABLE machine; --"#
        try Self.withPlant { server in
            var admin = Browser(port: server.port)
            _ = try admin.signIn("adam", "secret-adam", next: "/")
            #expect(try admin.post("/admin", ["what": "line", "site": "S1", "area": "A9", "line": "L9", "name": hostile]).status == 303)
            #expect(try admin.post("/admin", ["what": "machine", "site": "S1", "line": "L9", "code": "X1", "name": hostile]).status == 303)
            #expect(try admin.post("/admin", ["what": "shift", "site": "S1", "name": hostile, "from": "06:00", "to": "14:00"]).status == 303)
            #expect(try admin.post("/admin", ["what": "reason", "kind": "scrap", "code": "XSS", "description": hostile]).status == 303)
            #expect(try admin.post("/admin", ["what": "user", "username": "eve", "name": hostile, "role": "operator", "password": "long-enough-1"]).status == 303)

            for path in ["/admin", "/wall/S1", "/plant/S1", "/machines/S1/X1", "/audit?actor=adam"] {
                let page = try admin.get(path)
                #expect(page.status == 200, "\(path)")
                #expect(!page.text.contains("<script>alert") && !page.text.contains("<img src=x"), "\(path) shows the markup as markup")
                // The audit trail shows the text inside JSON.
                #expect(page.text.contains(escaped) || path == "/audit?actor=adam" && page.text.contains("&lt;script&gt;"), "\(path) shows the text")
            }
            let stored = try server.pool.withConnection { db in
                try db.query("""
                    SELECT (SELECT name FROM machine WHERE code = 'X1'), (SELECT description FROM reason_code WHERE code = 'XSS'),
                           (SELECT display_name FROM app_user WHERE username = 'eve'), (SELECT count(*)::int FROM machine)
                    """).decode((String, String, String, Int).self)[0]
            }
            #expect(stored.0 == hostile && stored.1 == hostile && stored.2 == hostile && stored.3 == 2)

            for path in ["/plant/S1?part=%27%20OR%201%3D1--", "/plant/S1?from=%27;DROP%20TABLE%20machine;--", "/trace?lot=%27%20OR%20%271%27%3D%271",
                         "/audit?actor=%27%20OR%20%271%27%3D%271", "/wall/S1?line=%3Cscript%3E", "/machines/S1/%27%20OR%201%3D1--"] {
                let page = try admin.get(path)
                #expect((200..<500).contains(page.status), "\(path) answered \(page.status)")
                #expect(!page.text.contains("<script>"), "\(path) echoes markup")
            }
        }
    }

    /// The quality and shop-floor forms, the Markdown fields and an uploaded file's name, each
    /// given markup and script: every page shows them as text, Markdown keeps no raw HTML and
    /// no script link, and a file name cannot break out of a picture's alternative text.
    @Test func hostileText_inEveryQualityAndFloorField_isShownAsText_andNeverRun() throws {
        let hostile = #"<script>alert(1)</script><img src=x onerror=alert(2)> [go](javascript:alert(3))"#
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 7, 7, 7]
        try Self.withPlant { server in
            var tablet = Browser(port: server.port)
            _ = try tablet.get("/tablet/S1/M1/sign-in")
            _ = try tablet.post("/tablet/S1/M1/sign-in", ["badge": "0412", "pin": "1234"], csrf: true, signInForm: true)
            var page = try tablet.get("/tablet/S1/M1")
            let operation = try #require(page.first(#"action="/tablet/operations/(\d+)/action""#))
            #expect(try tablet.post("/tablet/operations/\(operation)/action", ["action": "start", "back": "/tablet/S1/M1"]).status == 303)
            page = try tablet.upload(
                "/tablet/operations/\(operation)/report", ["kind": "scrap", "quantity": "1", "reason": "DIM", "note": hostile, "back": "/tablet/S1/M1"],
                file: ("photo", "<img src=x onerror=alert(4)>.png", "image/png", png))
            #expect(page.status == 303)
            // Out of specification: a nonconformance and a hold, for quality's forms below.
            #expect(try tablet.post("/tablet/operations/\(operation)/measure", ["characteristic": "BORE", "value": "25.2", "back": "/tablet/S1/M1"]).status == 303)

            var quinn = Browser(port: server.port)
            _ = try quinn.signIn("quinn", "secret-quinn", next: "/quality")
            page = try quinn.get("/quality")
            let nc = try #require(page.first(#"href="/quality/nonconformances/(\d+)""#))
            let hold = try #require(page.first(#"action="/quality/holds/(\d+)/release""#))
            #expect(try quinn.post("/quality/nonconformances/\(nc)/investigate", ["findings": hostile]).status == 303)
            #expect(try quinn.post("/quality/nonconformances/\(nc)/disposition", ["disposition": "use_as_is", "reason": hostile, "password": "secret-quinn"]).status == 303)
            #expect(try quinn.post("/quality/holds/\(hold)/release", ["reason": hostile]).status == 303)
            page = try quinn.upload(
                "/instructions/draft", ["part": "P-1", "operation": "10", "title": hostile, "body": "Clamp. " + hostile],
                file: ("picture", "x](https://elsewhere.example/y.png) ![z", "image/png", png))
            #expect(page.status == 303)
            let instruction = try #require(page.location)
            let characteristic = try quinn.post("/characteristics", ["part": "P-1", "operation": "10", "code": "OD", "name": hostile, "unit": "<b>mm</b>", "chart": "imr", "subgroup_size": "1", "rule": "N1"])
            #expect(characteristic.status == 303)
            #expect(try quinn.post("/qualifications", ["what": "define", "code": "TURN-9", "description": hostile]).status == 303)

            var sue = Browser(port: server.port)
            _ = try sue.signIn("sue", "secret-sue", next: "/")
            try server.pool.withConnection { db in
                try db.execute("INSERT INTO shift_pattern (site_id, name, start_minute, end_minute, weekdays) SELECT id, 'Day', 0, 1439, '1234567' FROM site")
            }
            page = try sue.post("/handover/S1/prepare", ["notes": hostile, "checklist": hostile, "done": hostile])
            #expect(page.status == 303)
            let handover = try #require(page.location)

            for (browser, path) in [(quinn, "/quality"), (quinn, "/quality/nonconformances/\(nc)"), (quinn, instruction), (quinn, "/characteristics"),
                                    (quinn, "/qualifications"), (quinn, "/audit"), (sue, handover), (tablet, "/tablet/S1/M1")] {
                var browser = browser
                page = try browser.get(path)
                #expect(page.status == 200, "\(path)")
                for markup in ["<script>alert", "<img src=x", "=\"javascript:", "<b>mm", "elsewhere.example/y.png\""] {
                    #expect(!page.text.contains(markup), "\(path) has \(markup)")
                }
            }
            // Plain fields are shown as the text typed; the file name stays the picture's caption.
            #expect(try quinn.get("/quality/nonconformances/\(nc)").text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            page = try quinn.get(instruction)
            #expect(page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            #expect(page.text.contains(#"<img src="/attachments/"#) && page.text.contains(#"alt="xhttps://elsewhere.example/y.png !z""#))
            let stored = try server.pool.withConnection { db in
                try db.query("SELECT release_reason FROM quality_hold WHERE id = \(Int64(hold)!)").decode(String?.self)[0]
            }
            #expect(stored == hostile)
        }
    }

    @Test func aMissingQualification_blocksTheStart_untilASupervisorSignsAtTheTablet() throws {
        try Self.withPlant { server in
            let qualifications = QualificationService(pool: server.pool)
            try qualifications.define("TURN-1", description: "CNC turning", by: "quinn")
            try qualifications.require("TURN-1", part: "P-1", operation: 10, by: "quinn")
            var tablet = Browser(port: server.port)
            _ = try tablet.get("/tablet/S1/M1/sign-in")
            _ = try tablet.post("/tablet/S1/M1/sign-in", ["badge": "0412", "pin": "1234"], csrf: true, signInForm: true)
            var page = try tablet.get("/tablet/S1/M1")
            #expect(page.text.contains("Ana lacks TURN-1 (not held)"))
            let operation = try #require(page.first(#"action="/tablet/operations/(\d+)/override""#))
            page = try tablet.post("/tablet/operations/\(operation)/action", ["action": "start", "back": "/tablet/S1/M1"])
            #expect(page.status == 409 && page.text.contains("Ana lacks TURN-1 (not held) for this operation; a supervisor can sign an override."))
            let form = ["operator": "ana", "reason": "Renewal booked", "supervisor": "sue", "back": "/tablet/S1/M1"]
            #expect(try tablet.post("/tablet/operations/\(operation)/override", form.merging(["password": "wrong"]) { $1 }).status == 403)
            #expect(try tablet.post("/tablet/operations/\(operation)/override", form.merging(["supervisor": "quinn", "password": "secret-quinn"]) { $1 }).status == 403)
            #expect(try tablet.post("/tablet/operations/\(operation)/override", form.merging(["password": "secret-sue"]) { $1 }).status == 303)
            #expect(try tablet.post("/tablet/operations/\(operation)/action", ["action": "start", "back": "/tablet/S1/M1"]).status == 303)
        }
    }

    /// Every page with every role: 403 exactly when the role is not among the route's.
    @Test func everyRoute_refusesEveryRoleItDoesNotName() throws {
        try Self.withPlant { server in
            var browsers: [String: Browser] = [:]
            for (name, role) in [("ana", "operator"), ("sue", "supervisor"), ("quinn", "quality"), ("mia", "manager"), ("adam", "admin")] {
                var browser = Browser(port: server.port)
                #expect(try browser.signIn(name, "secret-\(name)", next: "/").status == 303)
                browsers[role] = browser
            }
            var checked = 0
            for line in server.routes {
                let parts = line.split(separator: " ")
                guard parts[2] != "public" else { continue }
                let allowed = Set(parts[2].split(separator: ",").map(String.init))
                let path = String(parts[1]).replacing(":site", with: "S1").replacing(":machine", with: "M1").replacing(":id", with: "999999")
                for (role, var browser) in browsers {
                    let page = parts[0] == "GET" ? try browser.get(path) : try browser.post(path, ["password": "secret-\(browser.user)"])
                    let refused = page.status == 403
                    #expect(refused == !allowed.contains(role), "\(line) as \(role): \(page.status) \(page.text.prefix(200))")
                    checked += 1
                    if path == "/logout" && !refused { #expect(try browser.signIn(browser.user, "secret-\(browser.user)", next: "/").status == 303) }
                    browsers[role] = browser
                }
            }
            #expect(checked >= 5 * 14)
        }
    }
}

struct WebServer {
    let port: Int
    let pool: PGPool
    let routes: [String]
}

/// A browser without JavaScript: cookies kept, redirects not followed.
struct Browser {
    let port: Int
    var cookies: [String: String] = [:]
    var setCookies: [String] = []
    var user = ""

    struct Page {
        var status: Int
        var location: String?
        var text: String

        /// The first capture of `pattern` in the page.
        func first(_ pattern: String) -> String? {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), match.numberOfRanges > 1,
                let range = Range(match.range(at: 1), in: text)
            else { return nil }
            return String(text[range])
        }
    }

    init(port: Int) { self.port = port }

    mutating func send(_ method: String, _ path: String, contentType: String? = nil, body: [UInt8]? = nil) throws -> Page {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if !cookies.isEmpty { request.setValue(cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; "), forHTTPHeaderField: "Cookie") }
        if let contentType { request.setValue(contentType, forHTTPHeaderField: "Content-Type") }
        if let body { request.httpBody = Data(body) }
        let response = try BlockingHTTPClient(timeout: 10).send(request)
        for header in response.values("Set-Cookie") {
            setCookies.append(header)
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            if header.contains("Max-Age=0") || value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
        }
        return Page(status: response.status, location: response.values("Location").first, text: String(decoding: response.body, as: UTF8.self))
    }

    mutating func get(_ path: String) throws -> Page { try send("GET", path) }

    /// The CSRF token of the session: read from any page that shows a form.
    mutating func csrf() throws -> String {
        let page = try get("/")
        return page.first(#"name="_csrf" value="([0-9a-f]+)""#) ?? ""
    }

    /// Posts a URL-encoded form, with the session's token (or the sign-in cookie's) unless told not to.
    mutating func post(_ path: String, _ fields: [String: String], csrf: Bool = true, signInForm: Bool = false) throws -> Page {
        var fields = fields
        if csrf { fields["_csrf"] = signInForm ? cookies["mes_signin"] ?? "" : try self.csrf() }
        let body = fields.map { "\(Self.encode($0.key))=\(Self.encode($0.value))" }.joined(separator: "&")
        return try send("POST", path, contentType: "application/x-www-form-urlencoded", body: Array(body.utf8))
    }

    mutating func upload(_ path: String, _ fields: [String: String], file: (field: String, name: String, type: String, bytes: [UInt8])) throws -> Page {
        let boundary = "----mes\(UInt32.random(in: 0 ... .max))"
        var fields = fields
        fields["_csrf"] = try csrf()
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\nContent-Type: \(file.type)\r\n\r\n".utf8)
        body += file.bytes + Array("\r\n--\(boundary)--\r\n".utf8)
        return try send("POST", path, contentType: "multipart/form-data; boundary=\(boundary)", body: body)
    }

    mutating func signIn(_ username: String, _ password: String, next: String) throws -> Page {
        _ = try get("/login")
        user = username
        return try post("/login", ["username": username, "password": password, "next": next], csrf: true, signInForm: true)
    }

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}
