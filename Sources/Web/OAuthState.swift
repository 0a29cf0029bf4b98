import Crypto
public import Domain
public import Foundation

/// Which consent flow a `state` was issued for; a state of one flow is refused by the other's callback.
public enum ConsentFlow: String, Sendable, Codable, Hashable {
    /// SP-API website authorization (Seller Central consent page).
    case spapi
    /// Ads API consent (Login with Amazon, scope `advertising::campaign_management`).
    case ads
}

/// What a signed `state` carries through Amazon's consent page and back.
///
/// No secret and no seller data: ids and times only, because the state travels in URLs.
public struct OAuthStatePayload: Sendable, Codable, Hashable {
    /// The flow the state was issued for.
    public var flow: ConsentFlow
    /// Random one-time id; its marker in Redis makes the state single-use.
    public var nonce: String
    /// Issue time, milliseconds since 1970.
    public var issuedAt: Int64
    /// Marketplace a new SP-API seller is registered with (its region is the authorization's region).
    public var marketplaceID: String?
    /// The already-registered seller an Ads consent is for.
    public var sellerID: SellerID?

    enum CodingKeys: String, CodingKey {
        case flow = "f", nonce = "n", issuedAt = "t", marketplaceID = "m", sellerID = "s"
    }

    public init(flow: ConsentFlow, nonce: String = OAuthStatePayload.newNonce(), issuedAt: Date,
                marketplaceID: String? = nil, sellerID: SellerID? = nil) {
        self.flow = flow
        self.nonce = nonce
        self.issuedAt = Int64((issuedAt.timeIntervalSince1970 * 1000).rounded())
        self.marketplaceID = marketplaceID
        self.sellerID = sellerID
    }

    /// 128 random bits, hex (safe in URLs and Redis key names).
    public static func newNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }
}

/// Why a `state` returned by Amazon was refused; `description` is the one line shown and logged.
public enum OAuthStateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No `state` parameter at all.
    case missing
    /// Not of the form `payload.signature`, or the payload is not ours.
    case malformed
    /// The signature does not match: the state was not issued by this deployment (forged or altered).
    case badSignature
    /// Issued longer ago than the allowed lifetime (or in the future beyond clock skew).
    case expired(ageSeconds: Int, limitSeconds: Int)
    /// Issued for the other consent flow.
    case wrongFlow(expected: ConsentFlow, got: ConsentFlow)
    /// Already presented once (single use).
    case replayed

    public var description: String {
        switch self {
        case .missing: "the authorization response carries no state parameter"
        case .malformed: "the state parameter is malformed"
        case .badSignature: "the state parameter was not issued by OptMazon (signature mismatch)"
        case let .expired(age, limit): "the authorization link expired (\(age)s old, limit \(limit)s)"
        case let .wrongFlow(expected, got): "the state was issued for the \(got.rawValue) consent, not the \(expected.rawValue) one"
        case .replayed: "this authorization response was already used once"
        }
    }
}

/// Signs and verifies `state` values: `base64url(payload JSON) "." base64url(HMAC-SHA256)`.
///
/// Signing (rather than storing every issued state) keeps the web process stateless; the
/// one-time marker is written only when a state comes back (``StateLedger``).
public struct StateSigner: Sendable {
    /// The HMAC key's bytes; `SymmetricKey` is not `Sendable`, so a key is made per use.
    private let secret: [UInt8]
    /// How long an issued state stays valid (at most 10 minutes).
    public let lifetime: TimeInterval
    /// A state issued this far in the future (another machine's clock) is still accepted.
    public static let clockSkew: TimeInterval = 30
    /// Shortest secret accepted, in bytes.
    public static let minimumSecretBytes = 32

    /// - Parameter secret: `OPTMAZON_WEB_STATE_SECRET`; at least 32 bytes.
    public init(secret: String, lifetime: TimeInterval) throws(WebConfigurationError) {
        guard secret.utf8.count >= Self.minimumSecretBytes else {
            throw WebConfigurationError(key: "OPTMAZON_WEB_STATE_SECRET",
                                        message: "must hold at least \(Self.minimumSecretBytes) bytes (got \(secret.utf8.count))")
        }
        guard lifetime > 0, lifetime <= 600 else {
            throw WebConfigurationError(key: "web.state.ttl", message: "must be from 1 to 600 seconds")
        }
        self.secret = Array(secret.utf8)
        self.lifetime = lifetime
    }

    /// The URL-safe state string for `payload`.
    public func sign(_ payload: OAuthStatePayload) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // A struct of strings and integers always encodes.
        let body = try! encoder.encode(payload)
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return Base64URL.encode(body) + "." + Base64URL.encode(Data(mac))
    }

    /// Checks signature, flow and age; single use is the ledger's job.
    public func verify(_ state: String?, flow: ConsentFlow, now: Date) throws(OAuthStateError) -> OAuthStatePayload {
        guard let state, !state.isEmpty else { throw .missing }
        let parts = state.split(separator: ".", omittingEmptySubsequences: false)
        guard state.utf8.count <= 2048, parts.count == 2, let body = Base64URL.decode(parts[0]), let mac = Base64URL.decode(parts[1]) else {
            throw .malformed
        }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: secret)) else { throw .badSignature }
        guard let payload = try? JSONDecoder().decode(OAuthStatePayload.self, from: body) else { throw .malformed }
        guard payload.flow == flow else { throw .wrongFlow(expected: flow, got: payload.flow) }
        let age = now.timeIntervalSince1970 - Double(payload.issuedAt) / 1000
        guard age <= lifetime, age >= -Self.clockSkew else {
            throw .expired(ageSeconds: Int(age.rounded()), limitSeconds: Int(lifetime))
        }
        return payload
    }
}

/// RFC 4648 §5 base64url without padding (Foundation has none).
enum Base64URL {
    static func encode(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: Substring) -> Data? {
        guard text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }
}
