import Digest
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPClient
import JSON
import Services

/// Outbound webhooks: the outbox for an ERP without a connector. Each entry is POSTed to one
/// URL as `{"event": kind, "key": idempotency key, "data": message}`, signed, and retried by
/// the outbox dispatcher with backoff until the receiver answers 2xx.
///
/// Headers:
/// - `X-MES-Event`: operation_done, labor, scrap or order_done;
/// - `X-MES-Delivery`: the idempotency key, the same on every retry, so the receiver can drop
///   a delivery it has already taken;
/// - `X-MES-Timestamp`: Unix seconds of this attempt;
/// - `X-MES-Signature`: `sha256=` and the hex HMAC-SHA-256, under the shared secret, of the
///   timestamp, a `.`, and the body. The receiver recomputes it and should refuse old timestamps.
public final class WebhookConnector: ERPConnector {
    public let url: URL
    let secret: [UInt8]
    let http: BlockingHTTPClient
    let clock: @Sendable () -> Date

    public init(url: URL, secret: String, timeout: Double = 15, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.url = url
        self.secret = Array(secret.utf8)
        http = BlockingHTTPClient(timeout: timeout)
        self.clock = clock
    }

    /// The signature header's value for `body` sent at `timestamp`.
    public static func signature(secret: [UInt8], timestamp: String, body: [UInt8]) -> String {
        "sha256=" + hex(hmacSHA256(key: secret, message: Array(timestamp.utf8) + [UInt8(ascii: ".")] + body))
    }

    public func push(_ message: OutboxMessage, idempotencyKey key: String) throws(ERPError) -> ERPReceipt {
        let data: JSONValue
        do { data = try JSONValue.parse(Data(message.encodedPayload().utf8)) } catch {
            throw ERPError(.malformedAnswer, "the outbox entry \(key) could not be encoded: \(error)")
        }
        let envelope: JSONValue = ["event": .string(message.kind), "key": .string(key), "data": data]
        let body = Array(envelope.encoded())
        let timestamp = String(Int(clock().timeIntervalSince1970))
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(message.kind, forHTTPHeaderField: "X-MES-Event")
        request.setValue(key, forHTTPHeaderField: "X-MES-Delivery")
        request.setValue(timestamp, forHTTPHeaderField: "X-MES-Timestamp")
        request.setValue(Self.signature(secret: secret, timestamp: timestamp, body: body), forHTTPHeaderField: "X-MES-Signature")
        let response: BlockingHTTPClient.Response
        do { response = try http.send(request) } catch { throw ERPError(.unreachable, error.description) }
        let excerpt = BlockingHTTPClient.excerpt(response.body)
        switch response.status {
        case 200..<300: return .sent("\(response.status) \(excerpt)")
        case 408, 429, 500...599: throw ERPError(.unreachable, "\(url.absoluteString) answered \(response.status): \(excerpt)")
        default: throw ERPError(.refused, "\(url.absoluteString) answered \(response.status): \(excerpt)")
        }
    }
}
