import Crypto
import _CryptoExtras
import Digest

/// Password and PIN hashes: PBKDF2-HMAC-SHA-256 (RFC 8018) with a random 16-byte salt, stored in
/// one self-describing string, `pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>`, so the
/// iteration count can grow without invalidating the hashes already stored.
public struct PasswordHash: Sendable, Equatable, CustomStringConvertible {
    /// OWASP's figure for PBKDF2-HMAC-SHA-256 (Password Storage Cheat Sheet, 2023).
    public static let defaultIterations = 600_000

    public let iterations: Int
    public let salt: [UInt8]
    public let hash: [UInt8]

    /// Hashes `password` with a fresh random salt.
    public static func make(_ password: String, iterations: Int = defaultIterations) throws(PasswordHashError) -> PasswordHash {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return PasswordHash(iterations: iterations, salt: salt, hash: try derive(password, salt: salt, iterations: iterations))
    }

    /// Reads a stored hash.
    public init(encoded: String) throws(PasswordHashError) {
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == "pbkdf2-sha256" else {
            throw PasswordHashError("a stored password hash must read pbkdf2-sha256$iterations$salt$hash")
        }
        guard let iterations = Int(fields[1]), iterations > 0, let salt = Self.bytes(fromHex: fields[2]), let hash = Self.bytes(fromHex: fields[3]),
            !salt.isEmpty, hash.count == 32
        else { throw PasswordHashError("a stored password hash has a bad iteration count, salt or hash") }
        self.init(iterations: iterations, salt: salt, hash: hash)
    }

    init(iterations: Int, salt: [UInt8], hash: [UInt8]) {
        self.iterations = iterations
        self.salt = salt
        self.hash = hash
    }

    /// Whether `password` is the one hashed, compared in constant time.
    public func verify(_ password: String) -> Bool {
        guard let candidate = try? Self.derive(password, salt: salt, iterations: iterations) else { return false }
        return constantTimeEqual(candidate, hash)
    }

    /// The stored form.
    public var description: String { "pbkdf2-sha256$\(iterations)$\(hex(salt))$\(hex(hash))" }

    static func derive(_ password: String, salt: [UInt8], iterations: Int) throws(PasswordHashError) -> [UInt8] {
        guard !password.isEmpty else { throw PasswordHashError("a password cannot be empty") }
        do {
            let key = try KDF.Insecure.PBKDF2.deriveKey(
                from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: iterations)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw PasswordHashError("PBKDF2 failed: \(error)")
        }
    }

    static func bytes(fromHex text: Substring) -> [UInt8]? {
        guard text.utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = nibble(high), let l = nibble(low) else { return nil }
            bytes.append(h << 4 | l)
        }
        return bytes
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// A password that cannot be hashed, or a stored hash that cannot be read.
public struct PasswordHashError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
