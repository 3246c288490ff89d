#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Digest
import Domain
import Postgres

/// A file as uploaded: a photo of scrap, a picture for a work instruction.
public struct Upload: Sendable, Equatable {
    public var bytes: [UInt8]
    public var fileName: String?
    /// The type the client claimed, if any; it must agree with the content.
    public var contentType: String?

    public init(bytes: [UInt8], fileName: String? = nil, contentType: String? = nil) {
        self.bytes = bytes
        self.fileName = fileName
        self.contentType = contentType
    }
}

/// Stored files, by SHA-256 of their content. Only pictures are taken (JPEG, PNG, WebP), told
/// by their first bytes rather than by name or claimed type, and only up to `maxBytes`.
public enum Attachments {
    /// 10 MiB: a phone photo at full resolution.
    public static let maxBytes = 10 * 1024 * 1024

    /// The picture type of `bytes` from its signature, or nil.
    public static func sniff(_ bytes: [UInt8]) -> String? {
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if bytes.count >= 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) { return "image/webp" }
        return nil
    }

    /// Checks and stores `upload` inside the caller's transaction; the same content twice is
    /// stored once. Returns the attachment's id and hash.
    static func store(_ upload: Upload, by userID: Int64?, at now: Date, _ db: PGConnection) throws -> (id: Int64, sha256: String) {
        guard !upload.bytes.isEmpty else { throw ProductionRuleError(.invalidInput, "the file is empty") }
        guard upload.bytes.count <= maxBytes else {
            throw ProductionRuleError(.invalidInput, "the file is \(upload.bytes.count) bytes; at most \(maxBytes) (10 MiB) are taken")
        }
        guard let type = sniff(upload.bytes) else {
            throw ProductionRuleError(.invalidInput, "the file is not a JPEG, PNG or WebP picture")
        }
        if let claimed = upload.contentType?.split(separator: ";").first.map({ $0.filter { $0 != " " }.lowercased() }),
            claimed != "application/octet-stream", claimed != type, !(claimed == "image/jpg" && type == "image/jpeg")
        {
            throw ProductionRuleError(.invalidInput, "the file was sent as \(claimed) but its content is \(type)")
        }
        let hash = hex(SHA256.hash(upload.bytes))
        let name = upload.fileName.map { String($0.split(separator: "/").last ?? "").prefix(200) }.map(String.init)
        let id = try db.query("""
            WITH new AS (
                INSERT INTO attachment (sha256, content_type, byte_size, file_name, content, uploaded_by, uploaded_at)
                VALUES (\(hash), \(type), \(upload.bytes.count), \(name), \(upload.bytes), \(userID), \(now))
                ON CONFLICT (sha256) DO NOTHING RETURNING id)
            SELECT id FROM new UNION ALL SELECT id FROM attachment WHERE sha256 = \(hash)
            """).decode(Int64.self)[0]
        return (id, hash)
    }

    /// A stored file by its hash: its type and bytes.
    public static func content(sha256: String, _ pool: PGPool) throws -> (contentType: String, bytes: [UInt8])? {
        try pool.withConnection { db in
            try db.query("SELECT content_type, content FROM attachment WHERE sha256 = \(sha256.lowercased())")
                .decode((String, [UInt8]).self).first.map { ($0.0, $0.1) }
        }
    }
}
