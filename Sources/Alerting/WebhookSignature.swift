import Crypto
import Foundation

/// The shared secret webhooks are signed with (`OPTMAZON_WEBHOOK_SIGNING_SECRET`); printed masked.
public struct WebhookSigningSecret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret's bytes; `SymmetricKey` is not `Sendable` in swift-crypto 3, so the key is built per use.
    private let bytes: [UInt8]

    /// Refuses an empty secret.
    public init?(_ secret: String) {
        guard !secret.isEmpty else { return nil }
        bytes = Array(secret.utf8)
    }

    var key: SymmetricKey { SymmetricKey(data: bytes) }

    public var description: String { "****** (webhook signing secret)" }
    public var debugDescription: String { description }
}

/// Signs webhook bodies so receivers can check origin, integrity and freshness.
///
/// Receivers verify a request like this:
/// 1. read `X-OptMazon-Timestamp` (Unix seconds) and refuse it when more than 5 minutes from their clock (replays);
/// 2. compute `HMAC-SHA256(secret, timestamp + "." + raw body)` as lower-case hex;
/// 3. compare, in constant time, with the hex after `v1=` in `X-OptMazon-Signature`;
/// 4. drop alerts whose `id` (also the digest's `Idempotency-Key`) they have already processed.
public struct WebhookSigner: Sendable {
    /// Header carrying the Unix time (seconds) the request was signed at.
    public static let timestampHeader = "X-OptMazon-Timestamp"
    /// Header carrying `v1=<hex HMAC-SHA256>`.
    public static let signatureHeader = "X-OptMazon-Signature"

    let secret: WebhookSigningSecret

    public init(secret: WebhookSigningSecret) {
        self.secret = secret
    }

    /// `v1=<hex>` over `"<timestamp>.<body>"`.
    public func signature(timestamp: Int64, body: Data) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: secret.key)
        return "v1=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `signature` is valid for `body` and `timestamp` lies within `tolerance` seconds of `now`.
    public func verify(signature: String, timestamp: Int64, body: Data, now: Date = Date(), tolerance: Double = 300) -> Bool {
        guard abs(now.timeIntervalSince1970 - Double(timestamp)) <= tolerance,
              signature.hasPrefix("v1="), let given = Self.bytes(hex: String(signature.dropFirst(3))) else { return false }
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        return HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: message, using: secret.key)
    }

    private static func bytes(hex: String) -> Data? {
        guard hex.utf8.count % 2 == 0 else { return nil }
        var out = Data(capacity: hex.utf8.count / 2)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            out.append(byte)
            index = next
        }
        return out
    }
}
