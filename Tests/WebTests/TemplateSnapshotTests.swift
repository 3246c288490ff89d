import Foundation
import Templating
import Testing

/// Every template rendered with a fixture view model and compared with its snapshot in
/// Snapshots/NAME.html. A template without a fixture fails the test, so a new page gets one.
/// After a deliberate change: `MES_UPDATE_SNAPSHOTS=1 swift test --filter TemplateSnapshotTests`,
/// then read the diff before committing it.
struct TemplateSnapshotTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    static let session: [String: TemplateValue] = [
        "user": ["name": "Quinn Ode", "username": "quinn", "roles": "quality, supervisor"], "csrf": "c5rf",
        "is_quality": true, "is_supervisor": true, "is_operator": false, "is_manager": false, "is_admin": false,
    ]

    /// One view model per template (partials and the layout are rendered through the others).
    static let fixtures: [String: [String: TemplateValue]] = [
        "error": ["title": "Conflict", "status": 409, "message": "The operation is on hold (chips in the bore); quality must release it first."],
        "login": ["title": "Sign in", "next": "/audit", "signin_token": "t0k3n", "message": "The user name or password is wrong."],
        "home": ["title": "Home", "sites": [["code": "S1", "name": "Plant <1>"]]],
        "tablet/sign-in": ["title": "Sign in at M1", "site": "S1", "machine": "M1", "signin_token": "t0k3n", "message": nil],
        "tablet/machine": [
            "title": "M1 — tablet", "site": "S1", "machine": "M1", "back": "/tablet/S1/M1", "notice": "Recorded 4 good.",
            "tablet": ["site": "S1", "machine": "M1"], "has_characteristics": true,
            "operations": [["id": "7", "work_order": "WO-1", "part": "P-1", "sequence": 10, "name": "Turning <b>", "state": "running", "good": "4",
                            "scrap": "1", "planned": "10", "on_hold": false, "selected": true,
                            "actions": [["action": "pause", "label": "Pause"], ["action": "complete", "label": "Complete"]]]],
            "selected": ["id": "7", "work_order": "WO-1", "sequence": 10, "name": "Turning", "form_token": "f0rm",
                         "scrap_reasons": [["code": "DIM", "description": "Out of tolerance"]], "rework_reasons": [],
                         "characteristics": [["code": "BORE", "name": "Bore", "unit": "mm", "spec": "24.95 … 25.05 mm", "inputs": [["n": 1]],
                                              "due": "coming due (2026-11-23 09:00 UTC)", "overdue": false, "form_token": "m3as"]],
                         "instruction": ["title": "Clamp the bar", "version": 2, "html": "<p><strong>40 bar</strong></p>", "signed": ["Quinn Ode, approved"]]],
        ],
        "wall": [
            "title": "Wall — S1", "site": "S1",
            "machines": [["code": "M1", "name": "Lathe", "line": "L1", "state": "unplanned_stop", "state_label": "Down", "reason": nil, "since_ms": "1795420800000",
                          "since": "12 min", "andon": true, "unexplained": true, "spc_alarm": false,
                          "job": ["work_order": "WO-1", "sequence": 10, "good": "4", "planned": "10", "percent": 40]]],
            "alarms": [["id": "3", "machine": "M2", "characteristic": "BORE", "rules": "N1", "raised": "2026-11-23 08:10 UTC"]],
        ],
        "quality/index": [
            "title": "Quality", "has_holds": true,
            "holds": [["id": "5", "subject": "WO-1 operation 10", "source": "inspection", "reason": "Bore out of specification", "since": "2026-11-23 08:00 UTC"]],
            "nonconformances": [["id": "2", "subject": "WO-1 operation 10", "state": "open", "description": "Bore 25.07 mm"]], "alarms": [],
        ],
        "quality/nonconformance": [
            "title": "Nonconformance 2", "open": true, "has_signatures": true,
            "nc": ["id": "2", "subject": "WO-1 operation 10", "description": "Bore 25.07 mm", "state": "investigating", "quantity": "1",
                   "investigation": "Insert worn", "disposition": nil, "disposition_reason": nil, "opened_by": "ana", "opened": "2026-11-23 08:00 UTC"],
            "scrap_reasons": [["code": "DIM", "description": "Out of tolerance"]], "rework_reasons": [],
            "signatures": [["name": "Quinn Ode", "meaning": "approved", "at": "2026-11-23 09:00 UTC", "reason": "MRB", "hash": "ab12", "unchanged": false]],
        ],
        "audit": [
            "title": "Audit trail", "actor": "ana",
            "verification": ["intact": false, "checked": 8, "head": "8:ff", "problems": ["record 3 (operation.pause on work_order_operation 7) was changed after it was written"]],
            "records": [["seq": "1", "at": "2026-11-23 08:00 UTC", "actor": "ana", "action": "operation.start", "entity": "work_order_operation 7",
                         "reason": nil, "before": "{\"state\": \"queued\"}", "after": "{\"state\": \"running\"}", "hash": "0123456789ab"]],
        ],
        "trace": [
            "title": "Trace a lot", "part": "BAR", "lot": "H-1", "forward": true, "searched": true, "has_steps": true, "csv": "/trace.csv?part=BAR&lot=H-1&direction=forward",
            "steps": [["depth": 1, "part": "P-1", "lot": "S,1", "kind": "serial", "quantity": "1", "via": "H-1", "work_order": "WO-1", "operation": 10,
                       "machine": "M1", "operator": "ana", "at": "2026-11-23 08:00 UTC"]],
        ],
        "spc/index": ["title": "SPC", "has_characteristics": true,
                      "characteristics": [["id": "1", "part": "P-1", "operation": 10, "code": "BORE", "name": "Bore", "points": 30, "alarms": 1, "alarmed": true]]],
        "spc/chart": [
            "title": "Bore", "heading": "Bore (BORE) · P-1 operation 10", "limits": "trial limits from the first 25 subgroups", "unit": "mm",
            "spec": "24.95 … 25.05 mm", "rules": "N1, N2", "chart": "<svg><title>chart</title></svg>", "histogram": "<svg><title>histogram</title></svg>",
            "has_violations": true,
            "violations": [["point": 26, "chart": "Individuals", "value": "25.04", "when": "2026-11-23 08:00 UTC",
                            "rules": [["rule": "N1", "explanation": "a point beyond a control limit (3 sigma)"]]]],
            "capability": ["cp": "1.50", "cpk": "1.21", "pp": "1.40", "ppk": "1.10", "capable": false],
        ],
        "plant": [
            "title": "Plant S1", "site": "S1", "label": "today", "from": "2026-11-23", "to": "2026-11-23",
            "kpis": [["name": "OEE", "value": "74.8 %"], ["name": "Scrap rate", "value": "–"]], "pareto": "<svg><title>pareto</title></svg>",
            "lines": [["total": ["name": "Line L1", "link": nil, "oee": "74.8 %", "availability": "88.8 %", "performance": "86.1 %", "quality": "97.8 %",
                                 "counts": "18848 / 19271", "flags": ""],
                       "machines": [["name": "M1", "link": "/machines/S1/M1", "oee": "74.8 %", "availability": "88.8 %", "performance": "86.1 %",
                                     "quality": "97.8 %", "counts": "18848 / 19271", "flags": "no ideal cycle for P-9"]]]],
        ],
        "machine": [
            "title": "M1 — machine", "site": "S1", "machine": "M1", "name": "Lathe", "window": "shift Early, 06:00 to 14:00", "timeline": "<svg><title>states</title></svg>",
            "pareto": "<svg><title>downtime</title></svg>", "waterfall": "<svg><title>waterfall</title></svg>", "back": "/machines/S1/M1", "has_stops": true,
            "oee": ["oee": "50.0 %", "availability": "80.0 %", "performance": "70.0 %", "quality": "90.0 %", "good": 90, "total": 100, "flags": []],
            "queue": [["work_order": "WO-1", "sequence": 10, "name": "Turning", "state": "running", "progress": "4 / 10", "on_hold": true]],
            "stops": [["id": "9", "from": "08:00", "to": "08:20", "length": "20 min", "middle": "2026-11-23T08:10:00Z"]],
        ],
        "wip": [
            "title": "WIP — S1", "site": "S1", "has_orders": true, "operators": ["ana"],
            "orders": [["number": "WO-1", "part": "P-1", "due": "2026-11-24 14:00 UTC",
                        "cells": [["id": "7", "sequence": 10, "name": "Turning", "state": "queued", "machine": "M1", "operator": "–", "age": "5 h 0 min",
                                   "band": "aging", "progress": "0 / 10", "dispatchable": true, "choices": [["code": "M1", "current": true], ["code": "M2", "current": false]]]]]],
        ],
        "erp": ["title": "ERP ledger", "state": "dead",
                "entries": [["id": "4", "key": "order:1", "stream": "work_order:WO-1", "kind": "order_done", "state": "dead", "dead": true, "attempts": 8,
                             "created": "2026-11-23 08:00 UTC", "sent": "–", "answer": "production 7 is cancelled"]]],
        "dead-letters": ["title": "Dead letters",
                         "letters": [["id": "1", "at": "2026-11-23 08:00 UTC", "source": "mqtt", "topic": "mes/S1/A1/L1/M1/state", "payload": "<x>",
                                      "bytes": 3, "reason": "payload is not valid JSON"]]],
        "instructions": [
            "title": "Work instructions",
            "versions": [["id": "1", "part": "P-1", "operation": 10, "version": 1, "title": "Clamp <it>", "state": "draft", "author": "quinn", "draft": true,
                          "created": "2026-11-23 08:00 UTC"]],
            "preview": ["id": "1", "title": "Clamp", "html": "<p>Chuck at <strong>40 bar</strong></p>", "draft": true, "body": "Chuck at **40 bar** <x>",
                        "part": "P-1", "operation": 10],
        ],
        "characteristics": [
            "title": "Characteristics",
            "characteristics": [["id": "1", "part": "P-1", "operation": 10, "code": "BORE", "name": "Bore <x>", "points": 30]],
            "rules": [["code": "N1", "explanation": "a point beyond a control limit (3 sigma)", "default": true]],
        ],
        "qualifications": [
            "title": "Qualifications", "qualifications": [["code": "TURN-1", "description": "CNC turning <x>"]],
            "requirements": [["part": "P-1", "operation": 10, "code": "TURN-1"]],
            "grants": [["user": "ana", "code": "TURN-1", "from": "2026-01-01 00:00 UTC", "expires": "2026-11-01 00:00 UTC", "expired": true]],
        ],
        "admin": [
            "title": "Administration", "sites": [["code": "S1", "name": "Plant <1>", "zone": "UTC"]],
            "lines": [["site": "S1", "area": "A1", "line": "L1", "name": "Line 1"]],
            "machines": [["site": "S1", "line": "L1", "code": "M1", "name": "Lathe", "active": true]],
            "shifts": [["site": "S1", "name": "Early", "from": "06:00", "to": "14:00", "weekdays": "12345", "breaks": "[]"]],
            "reasons": [["kind": "scrap", "code": "DIM", "description": "Out of tolerance", "active": true]],
            "users": [["username": "ana", "name": "Ana <x>", "roles": "operator", "badge": "0412", "active": true]],
            "role_choices": ["operator", "admin"],
        ],
        "handover": [
            "title": "Shift handover — S1", "site": "S1", "handovers": [["id": "1", "shift": "Early", "start": "2026-11-23 06:00 UTC", "signatures": 1]],
            "current": ["id": "1", "shift": "Early", "start": "2026-11-23 06:00 UTC", "end": "2026-11-23 14:00 UTC", "notes": "<p>Spindle noisy.</p>",
                        "summary": "{}", "oee": "71.0 %", "downtime": ["Tool breakage: 30 min"], "scrap": [], "holds": 1, "alarms": "2 raised, 1 open",
                        "checklist": [["item": "5S walk", "done": true]], "signatures": ["Sue Park, performed, 2026-11-23 14:01 UTC"], "signed": true,
                        "complete": false, "next_meaning": "reviewed"],
        ],
    ]

    static let rendered = ["layout", "chrome", "machine/stop-forms"]

    @Test func everyTemplate_hasAFixture_andRendersAsItsSnapshot() throws {
        let library = try TemplateLibrary(directory: WebAppTests.templates)
        let update = ProcessInfo.processInfo.environment["MES_UPDATE_SNAPSHOTS"] == "1"
        #expect(Set(library.names).subtracting(Self.rendered) == Set(Self.fixtures.keys), "templates and fixtures differ")
        for (name, fixture) in Self.fixtures.sorted(by: { $0.key < $1.key }) {
            // As WebApp.render does: the viewer's part of the layout rendered apart.
            var values = Self.session.merging(fixture) { $1 }
            values["chrome"] = .string(String(decoding: try library.render("chrome", TemplateValue.dictionary(values)), as: UTF8.self))
            let context = TemplateValue.dictionary(values)
            let html = String(decoding: try library.render(name, context), as: UTF8.self)
            let file = Self.folder.appendingPathComponent(name.replacingOccurrences(of: "/", with: "_") + ".html")
            if update {
                try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
                try html.write(to: file, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try? String(contentsOf: file, encoding: .utf8)
            #expect(expected == html, "\(name) differs from Snapshots/\(file.lastPathComponent); if the change is meant, update the snapshots")
            // Nothing a user typed reaches the page unescaped.
            #expect(!html.contains("<b>") && !html.contains("<x>") && !html.contains("Plant <1>"), "\(name) lets markup through")
        }
    }
}
