#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Digest
import Domain
import Postgres

/// What an API token may do.
public enum APIScope: String, Sendable, CaseIterable, Codable {
    /// Read orders, WIP, machine states and OEE.
    case plantRead = "plant:read"
    /// Create, update, release and import work orders.
    case ordersWrite = "orders:write"
    /// Read the ERP outbox ledger and replay dead entries.
    case erpAdmin = "erp:admin"
    /// Read lot traces, recall impact and open holds.
    case qualityRead = "quality:read"
    /// Record measurements (gauges and inspection stations without MQTT).
    case qualityWrite = "quality:write"
}

/// API tokens: `mes_<8 hex>_<32 hex>`. The first part finds the row; the whole token's SHA-256
/// is compared in constant time. The token is shown once, at creation.
public enum APITokens {
    public struct Token: Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var prefix: String
        public var scopes: Set<APIScope>
        public var createdAt: Date
        public var lastUsedAt: Date?
        public var revoked: Bool
    }

    /// Makes a token; returns its row and the secret token text.
    public static func create(name: String, scopes: Set<APIScope>, _ pool: PGPool) throws -> (Token, String) {
        guard !scopes.isEmpty else { throw ProductionRuleError(.invalidInput, "a token needs at least one scope") }
        var generator = SystemRandomNumberGenerator()
        let prefix = hex((0..<4).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let secret = hex((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        let token = "mes_\(prefix)_\(secret)"
        let scopeText = APIScope.allCases.filter(scopes.contains).map(\.rawValue).joined(separator: " ")
        let (id, createdAt) = try pool.transaction { db in
            try db.query("""
                INSERT INTO api_token (name, prefix, secret_sha256, scopes) VALUES (\(name), \(prefix), \(hex(SHA256.hash(Array(token.utf8)))), \(scopeText))
                RETURNING id, created_at
                """).decode((Int64, Date).self)[0]
        }
        return (Token(id: id, name: name, prefix: prefix, scopes: scopes, createdAt: createdAt, lastUsedAt: nil, revoked: false), token)
    }

    /// The live token `text` names, nil for a malformed, unknown, wrong or revoked one.
    public static func authenticate(_ text: String, _ pool: PGPool) throws -> Token? {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "mes", parts[1].count == 8, parts[2].count == 32 else { return nil }
        return try pool.withConnection { db in
            guard let row = try db.query("""
                SELECT id, name, prefix, secret_sha256, scopes, created_at, last_used_at FROM api_token
                WHERE prefix = \(String(parts[1])) AND revoked_at IS NULL
                """).decode((Int64, String, String, String, String, Date, Date?).self).first,
                constantTimeEqual(Array(hex(SHA256.hash(Array(text.utf8))).utf8), Array(row.3.utf8))
            else { return nil }
            // Only a token that proved itself is stamped, and at most once a minute: a busy
            // client does not turn every read into a write.
            try db.execute("""
                UPDATE api_token SET last_used_at = now()
                WHERE id = \(row.0) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
                """)
            return Token(id: row.0, name: row.1, prefix: row.2, scopes: scopes(row.4), createdAt: row.5, lastUsedAt: row.6, revoked: false)
        }
    }

    public static func list(_ pool: PGPool) throws -> [Token] {
        try pool.withConnection { db in
            try db.query("SELECT id, name, prefix, scopes, created_at, last_used_at, revoked_at IS NOT NULL FROM api_token ORDER BY id")
                .decode((Int64, String, String, String, Date, Date?, Bool).self).map {
                    Token(id: $0.0, name: $0.1, prefix: $0.2, scopes: scopes($0.3), createdAt: $0.4, lastUsedAt: $0.5, revoked: $0.6)
                }
        }
    }

    /// Revokes a token by id or prefix; false when there is no such live token.
    public static func revoke(_ idOrPrefix: String, _ pool: PGPool) throws -> Bool {
        try pool.transaction { db in
            try db.execute("""
                UPDATE api_token SET revoked_at = now() WHERE (id::text = \(idOrPrefix) OR prefix = \(idOrPrefix)) AND revoked_at IS NULL
                """) == 1
        }
    }

    static func scopes(_ text: String) -> Set<APIScope> {
        Set(text.split(separator: " ").compactMap { APIScope(rawValue: String($0)) })
    }
}
