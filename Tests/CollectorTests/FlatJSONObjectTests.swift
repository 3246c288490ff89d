import JSON
@testable import Collector
import Foundation
import Testing

/// The fast reader must agree with Foundation's decoder on every payload it accepts, and leave
/// everything else to it.
struct FlatJSONObjectTests {
    static func foundation(_ text: [UInt8]) -> [String: JSONValue]? {
        guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text)) else { return nil }
        return object
    }

    static let accepted: [String] = [
        #"{"ts":1795420800000,"state":"running"}"#,
        #" { "ts" : 1795420800000 , "counter" : "total" , "value" : 42 , "part" : null } "#,
        #"{"ts":1795420800000,"value":-12.0045e-1,"unit":"mm","ok":true,"bad":false}"#,
        #"{"a":"tab\tnew\nline \"quoted\" back\\slash \/ \u00fc \ud83d\ude00 \b\f\r"}"#,
        #"{"big":12345678901234567890,"small":-0,"zero":0,"frac":0.5,"exp":1E3}"#,
        "{}",
        "{\"ü\":\"ö\"}",
    ]

    static let leftToFoundation: [String] = [
        #"{"nested":{"a":1}}"#, #"{"list":[1,2]}"#, "[1]", "\"text\"", "", "{", #"{"a":}"#, #"{"a":1,}"#, #"{"a" 1}"#,
        #"{"a":01}"#, #"{"a":1.}"#, #"{"a":.5}"#, #"{"a":1e}"#, #"{"a":+1}"#, #"{"a":tru}"#, #"{"a":"\x"}"#,
        #"{"a":"\ud800"}"#, #"{"a":"\udc00"}"#, "{\"a\":\"line\nbreak\"}", #"{"a":1} x"#, #"{"a":1e400}"#, #"{'a':1}"#,
    ]

    @Test func acceptedPayloads_readAsFoundationReadsThem() throws {
        for text in Self.accepted {
            let bytes = Array(text.utf8)
            let fast = try #require(FlatJSONObject.parse(bytes), "refused: \(text)")
            #expect(fast == Self.foundation(bytes), "differs: \(text)")
        }
        #expect(FlatJSONObject.parse([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]) == nil)  // bad UTF-8 in a key
    }

    @Test func everythingElse_isLeftToFoundation() {
        for text in Self.leftToFoundation {
            #expect(FlatJSONObject.parse(Array(text.utf8)) == nil, "accepted: \(text)")
        }
    }

    /// Every prefix and thousands of one-byte mutations of real payloads: whenever the fast
    /// reader accepts, Foundation agrees.
    @Test func mutatedPayloads_neverDisagree() {
        var random = XorShift(state: 0x9E37_79B9_7F4A_7C15)  // seeded: the same mutations every run
        var disagreements: [String] = []
        for text in Self.accepted {
            let bytes = Array(text.utf8)
            var variants = (0...bytes.count).map { Array(bytes.prefix($0)) }
            for _ in 0..<500 where !bytes.isEmpty {
                var mutated = bytes
                mutated[Int.random(in: 0..<mutated.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
                variants.append(mutated)
            }
            for variant in variants {
                if let fast = FlatJSONObject.parse(variant), fast != Self.foundation(variant) {
                    disagreements.append(String(decoding: variant, as: UTF8.self))
                }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
    }
}

/// Marsaglia's xorshift64: a reproducible source of mutations.
struct XorShift: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
