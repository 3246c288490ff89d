#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Digest
import Domain
import Passwords
import Postgres

/// Browser sessions: sign-in by user name and password (office) or by badge and PIN (a tablet,
/// at a machine), each session with its own CSRF token; sign-ins and refusals are audited.
///
/// The cookie carries a random 256-bit token; only its SHA-256 is stored, so a copy of the
/// table opens no session. A session lasts a shift and a half (12 hours) from sign-in, and
/// ends earlier after `idleTimeout` without a request.
public final class SessionService: Sendable {
    let pool: PGPool
    let clock: @Sendable () -> Date
    public static let lifetime: TimeInterval = 12 * 3_600
    public static let idleTimeout: TimeInterval = 2 * 3_600

    public init(pool: PGPool, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.pool = pool
        self.clock = clock
    }

    /// A signed-in person, as each request sees them.
    public struct Session: Sendable, Equatable {
        public var username: String
        public var displayName: String
        public var roles: Set<String>
        /// The token every form of this session must send back.
        public var csrfToken: String
        /// The machine a tablet session is at: site code and machine code.
        public var machine: (site: String, code: String)?

        public func has(_ role: String) -> Bool { roles.contains(role) }

        public static func == (a: Session, b: Session) -> Bool {
            a.username == b.username && a.displayName == b.displayName && a.roles == b.roles && a.csrfToken == b.csrfToken
                && a.machine?.site == b.machine?.site && a.machine?.code == b.machine?.code
        }
    }

    /// Signs in with a user name and password; returns the cookie's token and the session.
    public func signIn(username: String, password: String, remoteAddress: String?) throws -> (token: String, session: Session) {
        let person = try Credentials.verify(.username(username), secret: password, purpose: "session", at: clock(), pool)
        return try open(person, machineID: nil, remoteAddress: remoteAddress)
    }

    /// Signs in at a machine's tablet with a badge and PIN: the session is at that machine,
    /// and the operator is signed in there for labor.
    public func signIn(badge: String, pin: String, site: String, machine: String, remoteAddress: String?) throws -> (token: String, session: Session) {
        let person = try Credentials.verify(.badge(badge), secret: pin, purpose: "session", at: clock(), pool)
        let machineID = try pool.withConnection { db in try ProductionService(pool: pool, clock: clock).machineID(machine, site: site, db) }
        try ProductionService(pool: pool, clock: clock).signIn(person.username, machine: machine, site: site)
        return try open(person, machineID: machineID, remoteAddress: remoteAddress)
    }

    private func open(_ person: Credentials.Person, machineID: Int64?, remoteAddress: String?) throws -> (token: String, session: Session) {
        let token = Self.randomHex(32)
        let csrf = Self.randomHex(32)
        let now = clock()
        try pool.transaction { db in
            try db.execute("""
                INSERT INTO web_session (token_sha256, user_id, csrf_token, machine_id, remote_address, created_at, last_seen_at, expires_at)
                VALUES (\(Self.digest(token)), \(person.id), \(csrf), \(machineID), \(remoteAddress), \(now), \(now), \(now.addingTimeInterval(Self.lifetime)))
                """)
            try db.execute("DELETE FROM web_session WHERE expires_at < \(now)")
            try AuditTrail.record(
                "session.signed_in", entity: "app_user", id: String(person.id), actor: person.username, at: now,
                after: machineID.map { #"{"machine_id": \#($0)}"# }, db)
        }
        guard let session = try session(token: token) else { throw ProductionRuleError(.notFound, "the new session is gone") }
        return (token, session)
    }

    /// The session a cookie's token opens, or nil (unknown, expired, idle too long, or the
    /// user deactivated). A hit moves its idle clock on.
    public func session(token: String) throws -> Session? {
        guard token.count == 64, token.allSatisfy(\.isHexDigit) else { return nil }
        let now = clock()
        return try pool.withConnection { db in
            guard let row = try db.query("""
                UPDATE web_session w SET last_seen_at = \(now)
                FROM app_user u WHERE w.token_sha256 = \(Self.digest(token)) AND u.id = w.user_id AND u.active
                  AND w.expires_at > \(now) AND w.last_seen_at > \(now.addingTimeInterval(-Self.idleTimeout))
                RETURNING u.username, u.display_name, w.csrf_token,
                    coalesce((SELECT string_agg(role_code, ',') FROM user_role r WHERE r.user_id = u.id), ''),
                    (SELECT s.code FROM machine m JOIN site s ON s.id = m.site_id WHERE m.id = w.machine_id),
                    (SELECT m.code FROM machine m WHERE m.id = w.machine_id)
                """).decode((String, String, String, String, String?, String?).self).first
            else { return nil }
            let machine = row.4.flatMap { site in row.5.map { (site: site, code: $0) } }
            return Session(
                username: row.0, displayName: row.1, roles: Set(row.3.split(separator: ",").map(String.init)), csrfToken: row.2, machine: machine)
        }
    }

    /// Ends a session (and, at a tablet, signs the operator out of the machine: labor is booked).
    public func signOut(token: String) throws {
        guard let session = try session(token: token) else { return }
        if let machine = session.machine {
            try ProductionService(pool: pool, clock: clock).signOut(session.username, machine: machine.code, site: machine.site)
        }
        try pool.transaction { db in
            try db.execute("DELETE FROM web_session WHERE token_sha256 = \(Self.digest(token))")
            try AuditTrail.record("session.signed_out", entity: "app_user", id: session.username, actor: session.username, at: clock(), db)
        }
    }

    // MARK: Users

    /// Creates a user with roles, a password, and optionally a badge and PIN (for the tablet).
    @discardableResult
    public func addUser(
        username: String, displayName: String, roles: [String], password: String, badge: String? = nil, pin: String? = nil,
        iterations: Int = PasswordHash.defaultIterations, by actor: String
    ) throws -> Int64 {
        guard password.count >= 10 else { throw ProductionRuleError(.invalidInput, "a password needs at least 10 characters") }
        if let pin { guard pin.count >= 4, pin.allSatisfy(\.isNumber) else { throw ProductionRuleError(.invalidInput, "a PIN is 4 or more digits") } }
        guard !roles.isEmpty else { throw ProductionRuleError(.invalidInput, "a user needs at least one role") }
        let passwordHash: String
        let pinHash: String?
        do {
            passwordHash = try PasswordHash.make(password, iterations: iterations).description
            pinHash = try pin.map { try PasswordHash.make($0, iterations: iterations).description }
        } catch {
            throw ProductionRuleError(.invalidInput, String(describing: error))
        }
        return try pool.transaction { db in
            guard try db.query("SELECT 1 FROM app_user WHERE lower(username) = lower(\(username))").rowCount == 0 else {
                throw ProductionRuleError(.invalidInput, "there is a user \(username) already")
            }
            let ids: [Int64]
            do {
                ids = try db.query("""
                    INSERT INTO app_user (username, display_name, password_hash, pin_hash, badge) VALUES (\(username), \(displayName), \(passwordHash), \(pinHash), \(badge))
                    RETURNING id
                    """).decode(Int64.self)
            } catch let error as PGError where error.sqlState == "23514" || error.sqlState == "23505" {
                throw ProductionRuleError(.invalidInput, "the user name must be lower-case letters, digits and . _ @ -, and the badge unused")
            }
            let id = ids[0]
            for role in roles {
                guard try db.query("SELECT 1 FROM role WHERE code = \(role)").rowCount == 1 else {
                    throw ProductionRuleError(.invalidInput, "there is no role \(role): operator, supervisor, quality, manager or admin")
                }
                try db.execute("INSERT INTO user_role (user_id, role_code) VALUES (\(id), \(role))")
            }
            try AuditTrail.record(
                "user.added", entity: "app_user", id: String(id), actor: actor, at: clock(),
                after: #"{"username": \#(jsonString(username)), "roles": \#(jsonString(roles.sorted().joined(separator: ",")))}"#, db)
            return id
        }
    }

    // MARK: Tokens

    static func digest(_ token: String) -> String { hex(SHA256.hash(Array(token.utf8))) }

    /// `bytes` random bytes as hex, from the system's generator.
    public static func randomHex(_ bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return hex((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }
}
