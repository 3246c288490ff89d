#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Domain
import Passwords
import Postgres

/// Checking who someone is: a user name and password (the office, a signature), or a badge and
/// PIN (the tablet). Five wrong secrets in a row lock the account for 15 minutes; every refusal
/// is an audit record (`<purpose>.refused`), written in a transaction of its own so that it
/// stays whatever the caller does next.
enum Credentials {
    /// Wrong secrets in a row before the account is locked.
    static let maxFailures = 5
    /// How long a locked account stays locked.
    static let lockout: TimeInterval = 15 * 60

    /// A person whose secret was right.
    struct Person: Sendable, Equatable {
        var id: Int64
        var username: String
        var displayName: String
        var roles: Set<String>
    }

    enum Identifier {
        case username(String)
        case badge(String)
    }

    /// Checks `secret` (a password for a user name, a PIN for a badge) for `purpose`
    /// (`signature`, `session`); refuses with `signatureRejected` in the same words whatever
    /// was wrong, so a refusal does not tell which user names exist.
    static func verify(_ identifier: Identifier, secret: String, purpose: String, at now: Date, _ pool: PGPool) throws -> Person {
        let (column, value, hashColumn): (String, String, String) = switch identifier {
        case .username(let name): ("lower(username)", name.lowercased(), "password_hash")
        case .badge(let badge): ("badge", badge, "pin_hash")
        }
        let refused = ProductionRuleError(.signatureRejected, "the user name or password is wrong")
        let outcome: Result<Person, ProductionRuleError> = try pool.transaction { db in
            guard let row = try db.query("""
                SELECT id, username, display_name, \(unsafeRaw: hashColumn), locked_until,
                       coalesce((SELECT string_agg(role_code, ',' ORDER BY role_code) FROM user_role WHERE user_id = u.id), '')
                FROM app_user u WHERE \(unsafeRaw: column) = \(value) AND active FOR UPDATE
                """).decode((Int64, String, String, String?, Date?, String).self).first
            else {
                try AuditTrail.record("\(purpose).refused", entity: "app_user", id: value, actor: value, at: now, reason: "unknown or inactive user", db)
                return .failure(refused)
            }
            if let lockedUntil = row.4, lockedUntil > now {
                try AuditTrail.record("\(purpose).refused", entity: "app_user", id: String(row.0), actor: row.1, at: now, reason: "account locked", db)
                return .failure(ProductionRuleError(.signatureRejected, "\(row.1) is locked after \(maxFailures) wrong passwords; try again later"))
            }
            let valid = row.3.flatMap { try? PasswordHash(encoded: $0) }?.verify(secret) ?? false
            guard valid else {
                let failures = try db.query("""
                    UPDATE app_user SET failed_attempts = failed_attempts + 1,
                        locked_until = CASE WHEN failed_attempts + 1 >= \(maxFailures) THEN \(now.addingTimeInterval(lockout)) END
                    WHERE id = \(row.0) RETURNING failed_attempts
                    """).decode(Int.self)[0]
                try AuditTrail.record(
                    "\(purpose).refused", entity: "app_user", id: String(row.0), actor: row.1, at: now,
                    reason: failures >= maxFailures ? "wrong password; account locked" : "wrong password", db)
                return .failure(refused)
            }
            try db.execute("UPDATE app_user SET failed_attempts = 0, locked_until = NULL WHERE id = \(row.0) AND failed_attempts > 0")
            return .success(Person(id: row.0, username: row.1, displayName: row.2, roles: Set(row.5.split(separator: ",").map(String.init))))
        }
        return try outcome.get()
    }
}
