import Digest
@testable import Passwords
import Testing

struct PasswordHashTests {
    /// RFC 7914 section 11 gives PBKDF2-HMAC-SHA-256 vectors (P = "passwd", S = "salt", c = 1,
    /// and P = "Password", S = "NaCl", c = 80000), 64 bytes each; the first 32 are ours.
    @Test func derive_matchesRFC7914sVectors() throws {
        let one = try PasswordHash.derive("passwd", salt: Array("salt".utf8), iterations: 1)
        #expect(hex(one) == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
        let many = try PasswordHash.derive("Password", salt: Array("NaCl".utf8), iterations: 80_000)
        #expect(hex(many) == "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56")
    }

    @Test func make_storesASelfDescribingHash_thatVerifiesOnlyThePassword() throws {
        let stored = try PasswordHash.make("correct horse", iterations: 1_000)
        let text = stored.description
        #expect(text.hasPrefix("pbkdf2-sha256$1000$"))
        let read = try PasswordHash(encoded: text)
        #expect(read == stored)
        #expect(read.verify("correct horse"))
        #expect(!read.verify("correct horsE"))
        #expect(!read.verify(""))
        // Two hashes of one password differ by their salt.
        #expect(try PasswordHash.make("correct horse", iterations: 1_000).description != text)
    }

    @Test(arguments: ["", "pbkdf2-sha256$1000$00", "bcrypt$10$aa$bb", "pbkdf2-sha256$x$00$" + String(repeating: "0", count: 64),
                      "pbkdf2-sha256$1000$zz$" + String(repeating: "0", count: 64), "pbkdf2-sha256$1000$00$00"])
    func encoded_refusesWhatIsNotAStoredHash(_ text: String) {
        #expect(throws: PasswordHashError.self) { try PasswordHash(encoded: text) }
    }
}
