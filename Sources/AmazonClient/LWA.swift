import AsyncHTTPClient
import Domain
import Foundation
import NIOCore
import NIOHTTP1

/// Which of a seller's two grants a token belongs to.
public enum AmazonAPI: String, Sendable, Hashable {
    case spapi, ads
}

/// The result of exchanging an authorization code during onboarding.
public struct LWAGrant: Sendable, Hashable {
    public var refreshToken: String
    public var accessToken: String
    public var expiresIn: Int

    public init(refreshToken: String, accessToken: String, expiresIn: Int) {
        self.refreshToken = refreshToken
        self.accessToken = accessToken
        self.expiresIn = expiresIn
    }
}

/// LWA's token response (`{access_token, token_type, expires_in, refresh_token}`).
struct LWATokenResponse: Decodable {
    var access_token: String
    var token_type: String?
    var expires_in: Int
    var refresh_token: String?
}

/// LWA's error body (`{error, error_description}`).
struct LWAErrorResponse: Decodable {
    var error: String
    var error_description: String?
}

/// Access tokens per seller and grant, reused until shortly before expiry.
///
/// An actor because concurrent data-set jobs of one seller share a token: the first caller refreshes,
/// the others await the same in-flight exchange instead of each hitting LWA.
actor AccessTokenCache {
    struct Entry: Sendable {
        var token: String
        var refreshAt: ContinuousClock.Instant
    }

    private var entries: [String: Entry] = [:]
    private var inflight: [String: Task<Entry, any Error>] = [:]
    private(set) var exchanges = 0

    func token(key: String, fetch: @escaping @Sendable () async throws -> Entry) async throws -> String {
        if let entry = entries[key], entry.refreshAt > .now { return entry.token }
        if let task = inflight[key] { return try await task.value.token }
        let task = Task { try await fetch() }
        inflight[key] = task
        exchanges += 1
        defer { inflight[key] = nil }
        let entry = try await task.value
        entries[key] = entry
        return entry.token
    }

    /// Forgets `token` (after a 401/403) so the next caller exchanges a fresh one.
    func invalidate(key: String, token: String) {
        if entries[key]?.token == token { entries[key] = nil }
    }

    func invalidateAll(prefix: String) {
        for key in entries.keys where key.hasPrefix(prefix) { entries[key] = nil }
    }
}

extension AmazonClient {
    /// Exchanges an onboarding authorization code (`spapi_oauth_code`, or the Ads `code`) for a refresh token.
    ///
    /// Codes live 5 minutes and are single-use; LWA's `invalid_grant` here means expired or reused.
    public func exchangeAuthorizationCode(_ code: String, redirectURI: String?) async throws(AmazonClientError) -> LWAGrant {
        var form = [("grant_type", "authorization_code"), ("code", code)]
        if let redirectURI { form.append(("redirect_uri", redirectURI)) }
        let response = try await lwaExchange(form: form, seller: nil)
        guard let refresh = response.refresh_token, !refresh.isEmpty else {
            throw .malformed(operation: "LWA authorization_code", field: "refresh_token", reason: "missing")
        }
        return LWAGrant(refreshToken: refresh, accessToken: response.access_token, expiresIn: response.expires_in)
    }

    /// A valid access token for the seller's grant, from cache or a refresh-token exchange.
    func accessToken(_ seller: SellerAuthorization, api: AmazonAPI) async throws(AmazonClientError) -> String {
        let refreshToken: String
        switch api {
        case .spapi: refreshToken = seller.spapiRefreshToken
        case .ads:
            guard let ads = seller.adsRefreshToken else {
                throw .adsNotConnected(seller: seller.sellerID, marketplace: "any")
            }
            refreshToken = ads
        }
        let margin = config.tokenRefreshMargin
        let sellerID = seller.sellerID
        do {
            return try await tokens.token(key: cacheKey(seller, api)) { [self] in
                let started = ContinuousClock.now
                let response = try await lwaExchange(form: [("grant_type", "refresh_token"), ("refresh_token", refreshToken)],
                                                     seller: sellerID)
                let lifetime = max(0, Double(response.expires_in) - margin)
                return AccessTokenCache.Entry(token: response.access_token, refreshAt: started.advanced(by: .seconds(lifetime)))
            }
        } catch let error as AmazonClientError {
            throw error
        } catch {
            throw .unavailable(seller: sellerID, operation: "LWA refresh_token", attempts: 1, lastError: "\(type(of: error))")
        }
    }

    func cacheKey(_ seller: SellerAuthorization, _ api: AmazonAPI) -> String {
        let token = api == .spapi ? seller.spapiRefreshToken : (seller.adsRefreshToken ?? "")
        return "\(seller.sellerID.rawValue)|\(api.rawValue)|\(token.hashValue)"
    }

    /// Number of refresh/code exchanges performed, for tests of token sharing.
    public var tokenExchangeCount: Int {
        get async { await tokens.exchanges }
    }

    /// POSTs a form-encoded grant to LWA with bounded retries on 5xx/timeouts.
    func lwaExchange(form: [(String, String)], seller: SellerID?) async throws(AmazonClientError) -> LWATokenResponse {
        let fields = form + [("client_id", config.lwaClientID), ("client_secret", config.lwaClientSecret)]
        let body = fields.map { "\(FormEncoding.encode($0.0))=\(FormEncoding.encode($0.1))" }.joined(separator: "&")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded;charset=UTF-8")
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "user-agent", value: config.userAgent)
        let operation = "LWA \(form[0].1)"
        var attempt = 0
        while true {
            attempt += 1
            let response: RawResponse
            do {
                response = try await transport.send(service: .lwa, method: .POST, url: config.endpoints.lwaToken, headers: headers,
                                                    body: ByteBuffer(string: body), maxBytes: 64 << 10)
            } catch {
                switch error {
                case .tooLarge(let limit): throw .tooLarge(operation: operation, limit: limit)
                case .insecure(let why): throw .insecure(operation: operation, reason: why)
                case .retryable(let why):
                    if attempt >= config.retry.maxServerErrorAttempts {
                        throw .unavailable(seller: seller ?? Self.onboarding, operation: operation, attempts: attempt, lastError: why)
                    }
                    try? await Task.sleep(for: .seconds(config.retry.delay(attempt: attempt)))
                    continue
                }
            }
            switch response.status {
            case 200:
                do {
                    let token = try JSONDecoder().decode(LWATokenResponse.self, from: response.data)
                    guard !token.access_token.isEmpty else {
                        throw AmazonClientError.malformed(operation: operation, field: "access_token", reason: "empty")
                    }
                    return token
                } catch let error as AmazonClientError {
                    throw error
                } catch {
                    throw .malformed(operation: operation, field: JSONField.path(of: error), reason: JSONField.reason(of: error))
                }
            case 429, 500...599:
                if attempt >= config.retry.maxServerErrorAttempts {
                    throw .unavailable(seller: seller ?? Self.onboarding, operation: operation, attempts: attempt,
                                       lastError: "HTTP \(response.status)")
                }
                try? await Task.sleep(for: .seconds(config.retry.delay(attempt: attempt)))
            default:
                let code = (try? JSONDecoder().decode(LWAErrorResponse.self, from: response.data))?.error ?? "unknown_error"
                if code == "invalid_grant", let seller, form[0].1 == "refresh_token" {
                    logger.warning("LWA invalid_grant on refresh", metadata: ["seller": "\(seller)"])
                    throw .authorizationRevoked(seller)
                }
                throw .tokenExchangeFailed(seller: seller, code: code, status: response.status)
            }
        }
    }

    static let onboarding = SellerID(rawValue: "onboarding")!
}

/// `application/x-www-form-urlencoded` and RFC 3986 escaping (Foundation has no form encoder on Linux).
enum FormEncoding {
    static let unreserved: CharacterSet = {
        var set = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        set.remove(charactersIn: "")
        return set
    }()

    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }
}
