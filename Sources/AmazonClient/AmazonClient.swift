import AsyncHTTPClient
import Domain
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// The SP-API, Ads API and LWA client: one per process, shared by all sellers' jobs.
///
/// It owns the HTTP connection pool, the access-token cache and the rate limiter; every data-set
/// function (`fetchListings`, `fetchOffers`, …) maps Amazon's shapes to Domain types and passes them
/// through the `PIIFirewall` before returning.
public final class AmazonClient: Sendable {
    public let config: AmazonClientConfig
    let http: HTTPClient
    let transport: Transport
    let tokens = AccessTokenCache()
    let limiter: any RateLimiter
    let logger: Logger
    /// Applied to every data set before it is returned.
    public let firewall: PIIFirewall
    let stats = CallStats()

    /// - Parameters:
    ///   - rateLimiter: per seller+operation admission; use a shared (Redis) implementation across processes.
    public init(config: AmazonClientConfig, rateLimiter: any RateLimiter = TokenBucketRateLimiter(),
                logger: Logger = Logger(label: "optmazon.amazon-client")) {
        self.config = config
        self.limiter = rateLimiter
        self.logger = logger
        self.firewall = PIIFirewall(logger: logger)
        var httpConfig = HTTPClient.Configuration(
            timeout: .init(connect: Self.timeAmount(config.connectTimeout), read: Self.timeAmount(config.readTimeout)),
            decompression: .disabled)
        httpConfig.redirectConfiguration = .follow(max: 3, allowCycles: false)
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfig)
        self.transport = Transport(http: http, config: config)
    }

    /// Closes the connection pool; call once when the process stops using the client.
    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// Calls made and 429s received so far, per operation (for the fetch benchmark and logs).
    public func callCounts() async -> [String: (calls: Int, throttled: Int)] {
        await stats.snapshot()
    }

    static func timeAmount(_ d: Duration) -> TimeAmount {
        .nanoseconds(d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000)
    }

    // MARK: - Core request loop

    /// One logical API call: rate limit, token, headers, retries (429, 5xx/timeouts), one refresh on 401/403.
    ///
    /// - Parameter statuses: error statuses the caller handles itself; they are returned instead of thrown.
    func call(_ seller: SellerAuthorization, _ operation: AmazonOperation, method: HTTPMethod, path: String,
              query: [(String, String)] = [], json body: Data? = nil, mediaType: String = "application/json",
              adsProfileID: String? = nil, answering statuses: Set<Int> = []) async throws(AmazonClientError) -> RawResponse {
        let base = operation.isAds ? config.endpoints.ads : config.endpoints.spapi
        let url = Self.url(base: base, path: path, query: query)
        var throttles = 0
        var failures = 0
        var refreshed = false
        var lastFailure = ""
        while true {
            // The token comes first so an LWA round trip never sits between the grant and the request.
            let token = try await accessToken(seller, api: operation.isAds ? .ads : .spapi)
            let grant: RateLimitGrant
            do {
                grant = try await limiter.acquire(seller: seller.sellerID, operation: operation.name, rate: operation.rate, burst: operation.burst)
            } catch {
                throw .unavailable(seller: seller.sellerID, operation: operation.name, attempts: throttles + failures, lastError: "rate limiter: \(error)")
            }
            var headers = HTTPHeaders()
            headers.add(name: "user-agent", value: config.userAgent)
            headers.add(name: "Accept", value: mediaType)
            if body != nil { headers.add(name: "Content-Type", value: mediaType) }
            if operation.isAds {
                headers.add(name: "Authorization", value: "Bearer \(token)")
                headers.add(name: "Amazon-Advertising-API-ClientId", value: config.lwaClientID)
                if let adsProfileID { headers.add(name: "Amazon-Advertising-API-Scope", value: adsProfileID) }
            } else {
                headers.add(name: "x-amz-access-token", value: token)
            }
            await stats.count(operation.name)
            let response: RawResponse
            do {
                response = try await transport.send(service: operation.isAds ? .ads : .spapi, method: method, url: url, headers: headers,
                                                    body: body.map { ByteBuffer(data: $0) }, maxBytes: config.maxResponseBytes)
            } catch {
                switch error {
                case .tooLarge(let limit): throw .tooLarge(operation: operation.name, limit: limit)
                case .insecure(let why): throw .insecure(operation: operation.name, reason: why)
                case .retryable(let why):
                    failures += 1
                    lastFailure = why
                    logger.notice("retrying after transport failure", metadata: ["seller": "\(seller.sellerID)", "operation": "\(operation.name)", "failure": "\(why)", "attempt": "\(failures)"])
                    if failures >= config.retry.maxServerErrorAttempts {
                        throw .unavailable(seller: seller.sellerID, operation: operation.name, attempts: failures, lastError: why)
                    }
                    try? await Task.sleep(for: .seconds(config.retry.delay(attempt: failures)))
                    continue
                }
            }
            // Any answer but 429 means Amazon took the token by now; a 429 took none and empties the bucket below.
            if response.status != 429 { await limiter.completed(grant) }
            if statuses.contains(response.status) { return response }
            switch response.status {
            case 200...299:
                if let limit = response.header("x-amzn-RateLimit-Limit").flatMap(Double.init) {
                    await limiter.adjust(seller: seller.sellerID, operation: operation.name, rate: limit)
                }
                return response
            case 429:
                throttles += 1
                await stats.throttled(operation.name)
                await limiter.penalize(seller: seller.sellerID, operation: operation.name)
                if throttles >= config.retry.maxThrottleAttempts {
                    throw .throttled(seller: seller.sellerID, operation: operation.name, attempts: throttles)
                }
                let retryAfter = response.header("Retry-After").flatMap(Double.init) ?? 0
                logger.notice("throttled, backing off", metadata: ["seller": "\(seller.sellerID)", "operation": "\(operation.name)", "attempt": "\(throttles)"])
                try? await Task.sleep(for: .seconds(config.retry.delay(attempt: throttles, floor: retryAfter)))
            case 401, 403:
                if refreshed {
                    throw .unauthorized(seller: seller.sellerID, operation: operation.name, status: response.status)
                }
                refreshed = true
                await tokens.invalidate(key: cacheKey(seller, operation.isAds ? .ads : .spapi), token: token)
            case 500...599:
                failures += 1
                lastFailure = "HTTP \(response.status)"
                if failures >= config.retry.maxServerErrorAttempts {
                    throw .unavailable(seller: seller.sellerID, operation: operation.name, attempts: failures, lastError: lastFailure)
                }
                try? await Task.sleep(for: .seconds(config.retry.delay(attempt: failures)))
            default:
                throw .rejected(seller: seller.sellerID, operation: operation.name, status: response.status,
                                code: Self.errorCode(response.data))
            }
        }
    }

    /// Decodes a JSON body, turning decoding errors into `.malformed` naming operation and field.
    func decode<T: Decodable>(_ type: T.Type, _ response: RawResponse, operation: String) throws(AmazonClientError) -> T {
        try Self.decode(type, data: response.data, operation: operation)
    }

    static func decode<T: Decodable>(_ type: T.Type, data: Data, operation: String) throws(AmazonClientError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw .malformed(operation: operation, field: JSONField.path(of: error), reason: JSONField.reason(of: error))
        }
    }

    /// Amazon's error code from `{"errors":[{"code":…}]}` (SP-API) or `{"code":…}` (Ads), if any.
    static func errorCode(_ data: Data) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return "unknown" }
        if let errors = object["errors"] as? [[String: Any]], let code = errors.first?["code"] as? String { return code }
        if let code = object["code"] as? String { return code }
        return "unknown"
    }

    static func url(base: URL, path: String, query: [(String, String)]) -> URL {
        var string = base.absoluteString
        while string.hasSuffix("/") { string.removeLast() }
        string += path
        if !query.isEmpty {
            string += "?" + query.map { "\(FormEncoding.encode($0.0))=\(encodeQueryValue($0.1))" }.joined(separator: "&")
        }
        return URL(string: string)!
    }

    /// Query values keep `,` literal so csv arrays (`marketplaceIds=A,B`) read as Amazon documents them.
    static func encodeQueryValue(_ value: String) -> String {
        value.split(separator: ",", omittingEmptySubsequences: false).map { FormEncoding.encode(String($0)) }.joined(separator: ",")
    }

    /// Percent-encodes one path segment (SKUs may contain `/`, spaces, `#`).
    static func pathSegment(_ value: String) -> String { FormEncoding.encode(value) }
}

/// Counts of calls and throttles per operation.
actor CallStats {
    private var calls: [String: Int] = [:]
    private var throttles: [String: Int] = [:]

    func count(_ op: String) { calls[op, default: 0] += 1 }
    func throttled(_ op: String) { throttles[op, default: 0] += 1 }

    func snapshot() -> [String: (calls: Int, throttled: Int)] {
        var out: [String: (calls: Int, throttled: Int)] = [:]
        for key in Set(calls.keys).union(throttles.keys) { out[key] = (calls[key] ?? 0, throttles[key] ?? 0) }
        return out
    }
}

/// Renders `DecodingError`s as a dotted field path and a short reason.
enum JSONField {
    static func path(of error: any Error) -> String {
        guard let error = error as? DecodingError else { return "(body)" }
        let context: DecodingError.Context
        var key: String?
        switch error {
        case let .keyNotFound(k, c): context = c; key = k.stringValue
        case let .typeMismatch(_, c), let .valueNotFound(_, c), let .dataCorrupted(c): context = c
        @unknown default: return "(body)"
        }
        var parts = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
        if let key { parts.append(key) }
        let joined = parts.reduce("") { $0.isEmpty || $1.hasPrefix("[") ? $0 + $1 : $0 + "." + $1 }
        return joined.isEmpty ? "(body)" : joined
    }

    static func reason(of error: any Error) -> String {
        guard let error = error as? DecodingError else { return "unreadable" }
        switch error {
        case .keyNotFound: return "missing"
        case let .typeMismatch(type, _): return "expected \(type)"
        case .valueNotFound: return "null"
        case let .dataCorrupted(c):
            return c.codingPath.isEmpty ? "not valid JSON (truncated or corrupt)" : c.debugDescription
        @unknown default: return "unreadable"
        }
    }
}
