#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Postgres

/// The admin's changes to the plant model, shifts, reason codes and users; each one audited
/// with the record before and after. Refusals are `ProductionRuleError`s in words.
public final class PlantAdminService: Sendable {
    let pool: PGPool
    let clock: @Sendable () -> Date

    public init(pool: PGPool, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.clock = clock
    }

    /// Everything the admin page lists.
    public struct Overview: Sendable {
        public var sites: [(code: String, name: String, timeZone: String)]
        public var lines: [(site: String, area: String, line: String, name: String)]
        public var machines: [(site: String, line: String?, code: String, name: String, active: Bool)]
        public var shifts: [(site: String, name: String, start: Int, end: Int, weekdays: String, breaks: String)]
        public var reasons: [(kind: String, code: String, description: String, active: Bool)]
        public var users: [(username: String, name: String, roles: String, badge: String?, active: Bool)]
    }

    public func overview() throws -> Overview {
        try pool.withConnection { db in
            Overview(
                sites: try db.query("SELECT code, name, time_zone FROM site ORDER BY code").decode((String, String, String).self)
                    .map { (code: $0.0, name: $0.1, timeZone: $0.2) },
                lines: try db.query("""
                    SELECT s.code, a.code, l.code, l.name FROM line l JOIN area a ON a.id = l.area_id JOIN site s ON s.id = a.site_id ORDER BY 1, 2, 3
                    """).decode((String, String, String, String).self).map { (site: $0.0, area: $0.1, line: $0.2, name: $0.3) },
                machines: try db.query("""
                    SELECT s.code, l.code, m.code, m.name, m.active FROM machine m JOIN site s ON s.id = m.site_id LEFT JOIN line l ON l.id = m.line_id
                    ORDER BY 1, 3
                    """).decode((String, String?, String, String, Bool).self).map { (site: $0.0, line: $0.1, code: $0.2, name: $0.3, active: $0.4) },
                shifts: try db.query("""
                    SELECT s.code, p.name, p.start_minute, p.end_minute, p.weekdays, p.breaks::text FROM shift_pattern p JOIN site s ON s.id = p.site_id
                    ORDER BY 1, 3
                    """).decode((String, String, Int, Int, String, String).self)
                    .map { (site: $0.0, name: $0.1, start: $0.2, end: $0.3, weekdays: $0.4, breaks: $0.5) },
                reasons: try db.query("SELECT kind, code, description, active FROM reason_code ORDER BY 1, 2").decode((String, String, String, Bool).self)
                    .map { (kind: $0.0, code: $0.1, description: $0.2, active: $0.3) },
                users: try db.query("""
                    SELECT u.username, u.display_name, coalesce((SELECT string_agg(role_code, ', ' ORDER BY role_code) FROM user_role r WHERE r.user_id = u.id), ''),
                           u.badge, u.active FROM app_user u ORDER BY 1
                    """).decode((String, String, String, String?, Bool).self).map { (username: $0.0, name: $0.1, roles: $0.2, badge: $0.3, active: $0.4) })
        }
    }

    /// Adds a site, an area and line, or a machine on a line: whichever the arguments name.
    public func addSite(code: String, name: String, timeZone: String, by actor: String) throws {
        try change("site.added", entity: "site", id: code, actor: actor, after: #"{"name": \#(jsonString(name)), "time_zone": \#(jsonString(timeZone))}"#) { db in
            try db.execute("INSERT INTO site (code, name, time_zone) VALUES (\(code), \(name), \(timeZone))")
        }
    }

    public func addLine(site: String, area: String, line: String, name: String, by actor: String) throws {
        try change("line.added", entity: "line", id: "\(site)/\(area)/\(line)", actor: actor, after: #"{"name": \#(jsonString(name))}"#) { db in
            guard let siteID = try db.query("SELECT id FROM site WHERE code = \(site)").decode(Int64.self).first else {
                throw ProductionRuleError(.notFound, "there is no site \(site)")
            }
            try db.execute("INSERT INTO area (site_id, code, name) VALUES (\(siteID), \(area), \(area)) ON CONFLICT (site_id, code) DO NOTHING")
            try db.execute("""
                INSERT INTO line (area_id, code, name) SELECT id, \(line), \(name) FROM area WHERE site_id = \(siteID) AND code = \(area)
                """)
        }
    }

    public func addMachine(site: String, line: String?, code: String, name: String, by actor: String) throws {
        try change("machine.added", entity: "machine", id: "\(site)/\(code)", actor: actor, after: #"{"name": \#(jsonString(name))}"#) { db in
            guard let siteID = try db.query("SELECT id FROM site WHERE code = \(site)").decode(Int64.self).first else {
                throw ProductionRuleError(.notFound, "there is no site \(site)")
            }
            var lineID: Int64?
            if let line {
                lineID = try db.query("SELECT l.id FROM line l JOIN area a ON a.id = l.area_id WHERE a.site_id = \(siteID) AND l.code = \(line) LIMIT 1")
                    .decode(Int64.self).first
                guard lineID != nil else { throw ProductionRuleError(.notFound, "there is no line \(line) at site \(site)") }
            }
            try db.execute("INSERT INTO machine (site_id, line_id, code, name) VALUES (\(siteID), \(lineID), \(code), \(name))")
        }
    }

    /// A shift pattern: wall-clock start and end (minutes after midnight), weekdays as digits
    /// 1 (Monday) to 7, and breaks as (start minute, minutes).
    public func addShift(site: String, name: String, start: Int, end: Int, weekdays: String, breaks: [(Int, Int)], by actor: String) throws {
        let breaksJSON = "[" + breaks.map { #"{"start_minute": \#($0.0), "minutes": \#($0.1)}"# }.joined(separator: ", ") + "]"
        try change("shift.added", entity: "shift_pattern", id: "\(site)/\(name)", actor: actor,
                   after: #"{"start": \#(start), "end": \#(end), "weekdays": "\#(weekdays)", "breaks": \#(breaksJSON)}"#) { db in
            guard let siteID = try db.query("SELECT id FROM site WHERE code = \(site)").decode(Int64.self).first else {
                throw ProductionRuleError(.notFound, "there is no site \(site)")
            }
            try db.execute("""
                INSERT INTO shift_pattern (site_id, name, start_minute, end_minute, weekdays, breaks)
                VALUES (\(siteID), \(name), \(start), \(end), \(weekdays), \(breaksJSON)::jsonb)
                """)
        }
    }

    /// Adds a reason code, or switches one on or off.
    public func setReason(kind: String, code: String, description: String?, active: Bool, by actor: String) throws {
        try change("reason.changed", entity: "reason_code", id: "\(kind)/\(code)", actor: actor, after: #"{"active": \#(active)}"#) { db in
            if let description {
                try db.execute("""
                    INSERT INTO reason_code (kind, code, description, active) VALUES (\(kind), \(code), \(description), \(active))
                    ON CONFLICT (kind, code) DO UPDATE SET description = EXCLUDED.description, active = EXCLUDED.active
                    """)
            } else {
                guard try db.execute("UPDATE reason_code SET active = \(active) WHERE kind = \(kind) AND code = \(code)") == 1 else {
                    throw ProductionRuleError(.notFound, "there is no \(kind) reason \(code)")
                }
            }
        }
    }

    /// Switches a user on or off (their sessions end at once when off), or gives them a role.
    public func setUser(_ username: String, active: Bool? = nil, addRole: String? = nil, removeRole: String? = nil, by actor: String) throws {
        guard username.lowercased() != actor.lowercased() || active != false else {
            throw ProductionRuleError(.invalidInput, "you cannot switch yourself off")
        }
        try change("user.changed", entity: "app_user", id: username, actor: actor,
                   after: #"{"active": \#(active.map { "\($0)" } ?? "null"), "add_role": \#(addRole.map(jsonString) ?? "null"), "remove_role": \#(removeRole.map(jsonString) ?? "null")}"#) { db in
            let userID = try Lookup.userID(username, db, includeInactive: true)
            if let active {
                try db.execute("UPDATE app_user SET active = \(active), updated_at = now() WHERE id = \(userID)")
                if !active { try db.execute("DELETE FROM web_session WHERE user_id = \(userID)") }
            }
            if let addRole {
                guard try db.query("SELECT 1 FROM role WHERE code = \(addRole)").rowCount == 1 else {
                    throw ProductionRuleError(.invalidInput, "there is no role \(addRole)")
                }
                try db.execute("INSERT INTO user_role (user_id, role_code) VALUES (\(userID), \(addRole)) ON CONFLICT DO NOTHING")
            }
            if let removeRole { try db.execute("DELETE FROM user_role WHERE user_id = \(userID) AND role_code = \(removeRole)") }
        }
    }

    /// Runs `body` in a transaction with its audit record; constraint violations become `invalidInput`.
    private func change(_ action: String, entity: String, id: String, actor: String, after: String?, _ body: (PGConnection) throws -> Void) throws {
        do {
            try pool.transaction { db in
                try body(db)
                try AuditTrail.record(action, entity: entity, id: id, actor: actor, at: clock(), after: after, db)
            }
        } catch let error as PGError where error.sqlState?.hasPrefix("23") == true || error.sqlState == "22023" {
            throw ProductionRuleError(.invalidInput, "the values were refused: \(error.message)")
        }
    }
}
