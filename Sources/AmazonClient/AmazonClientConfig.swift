import Domain
import Foundation
import NIOSSL

/// Base URLs of the three Amazon services the fetcher talks to.
///
/// Pointing these at Amazon (or at `optmazon-sandbox`) is the only difference between production and tests.
public struct AmazonEndpoints: Sendable, Hashable {
    /// SP-API regional endpoint, e.g. `https://sellingpartnerapi-na.amazon.com`.
    public var spapi: URL
    /// LWA token endpoint, e.g. `https://api.amazon.com/auth/o2/token`.
    public var lwaToken: URL
    /// Ads API regional endpoint, e.g. `https://advertising-api.amazon.com`.
    public var ads: URL

    public init(spapi: URL, lwaToken: URL, ads: URL) {
        self.spapi = spapi
        self.lwaToken = lwaToken
        self.ads = ads
    }

    /// Amazon's production endpoints for a region.
    public static func production(_ region: Region) -> AmazonEndpoints {
        AmazonEndpoints(spapi: URL(string: region.spapiEndpoint)!, lwaToken: URL(string: "https://api.amazon.com/auth/o2/token")!,
                        ads: URL(string: region.adsEndpoint)!)
    }

    /// Whether `url` points at this machine, the only place plain HTTP may go (the local sandbox).
    public static func isLoopback(_ url: URL) -> Bool {
        url.host.map(LoopbackHost.contains) ?? false
    }
}

/// Which of the three services (or a report download) a request goes to; TLS policy is chosen per service.
public enum AmazonService: String, Sendable, Hashable, CaseIterable {
    case lwa, spapi, ads, download
}

/// Retry policy for throttling (429), server errors (5xx) and timeouts.
public struct RetryPolicy: Sendable, Hashable {
    /// Maximum attempts for a throttled call (429) before giving up.
    public var maxThrottleAttempts: Int
    /// Maximum attempts for a call failing with 5xx or a transport timeout.
    public var maxServerErrorAttempts: Int
    /// First backoff delay in seconds; doubled per attempt, with full jitter.
    public var baseDelay: Double
    /// Upper bound of a single backoff delay in seconds.
    public var maxDelay: Double

    public init(maxThrottleAttempts: Int = 8, maxServerErrorAttempts: Int = 4, baseDelay: Double = 0.5, maxDelay: Double = 30) {
        self.maxThrottleAttempts = maxThrottleAttempts
        self.maxServerErrorAttempts = maxServerErrorAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Exponential backoff with full jitter for the given attempt (1-based).
    func delay(attempt: Int, floor: Double = 0) -> Double {
        let cap = min(maxDelay, baseDelay * pow(2, Double(max(0, attempt - 1))))
        return max(floor, Double.random(in: cap / 2...max(cap / 2, cap)))
    }
}

/// Everything the client needs to know about where and how to call Amazon.
public struct AmazonClientConfig: Sendable {
    public var endpoints: AmazonEndpoints
    /// The app's LWA client id (`OPTMAZON_LWA_CLIENT_ID`); also sent as `Amazon-Advertising-API-ClientId`.
    public var lwaClientID: String
    /// The app's LWA client secret (`OPTMAZON_LWA_CLIENT_SECRET`); never logged.
    public var lwaClientSecret: String
    /// Sent as `user-agent` on every SP-API call, as Amazon asks.
    public var userAgent: String
    /// Minimum TLS version per service for https URLs; TLS 1.3 unless overridden.
    public var minimumTLSVersion: [AmazonService: TLSVersion]
    /// PEM files of certificate authorities trusted besides the system's (a TLS-inspecting egress
    /// proxy's CA, or a test server's self-signed certificate).
    public var additionalTrustRoots: [String] = []
    public var connectTimeout: Duration
    public var readTimeout: Duration
    /// Largest JSON API response accepted, in bytes.
    public var maxResponseBytes: Int
    /// Largest report document accepted, compressed or decompressed, in bytes.
    public var maxDocumentBytes: Int
    public var retry: RetryPolicy
    /// Access tokens are refreshed this many seconds before Amazon says they expire.
    public var tokenRefreshMargin: Double
    /// First delay between report status polls, in seconds (doubles up to `reportPollMaxDelay`).
    public var reportPollInitialDelay: Double
    public var reportPollMaxDelay: Double
    /// Give up on a report that is not terminal after this many seconds.
    public var reportTimeout: Double

    public init(endpoints: AmazonEndpoints, lwaClientID: String, lwaClientSecret: String,
                userAgent: String = "OptMazon/1.0 (Language=Swift; Platform=Linux)",
                minimumTLSVersion: [AmazonService: TLSVersion] = [:],
                connectTimeout: Duration = .seconds(10), readTimeout: Duration = .seconds(60),
                maxResponseBytes: Int = 16 << 20, maxDocumentBytes: Int = 256 << 20,
                retry: RetryPolicy = RetryPolicy(), tokenRefreshMargin: Double = 120,
                reportPollInitialDelay: Double = 2, reportPollMaxDelay: Double = 60, reportTimeout: Double = 4 * 3600) {
        self.endpoints = endpoints
        self.lwaClientID = lwaClientID
        self.lwaClientSecret = lwaClientSecret
        self.userAgent = userAgent
        self.minimumTLSVersion = minimumTLSVersion
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.maxResponseBytes = maxResponseBytes
        self.maxDocumentBytes = maxDocumentBytes
        self.retry = retry
        self.tokenRefreshMargin = tokenRefreshMargin
        self.reportPollInitialDelay = reportPollInitialDelay
        self.reportPollMaxDelay = reportPollMaxDelay
        self.reportTimeout = reportTimeout
    }

    /// Reads `OPTMAZON_SPAPI_URL`, `OPTMAZON_LWA_URL`, `OPTMAZON_ADS_URL`, `OPTMAZON_LWA_CLIENT_ID`,
    /// `OPTMAZON_LWA_CLIENT_SECRET` and `OPTMAZON_TLS_MINIMUM` (`1.3` unless `1.2`); URLs default to
    /// Amazon's production hosts of `region`, and plain `http` is accepted for loopback hosts only
    /// (the local sandbox), so seller data never crosses a network unencrypted.
    public init(environment: [String: String], region: Region = .na) throws(AmazonClientError) {
        let prod = AmazonEndpoints.production(region)
        func url(_ key: String, _ fallback: URL) throws(AmazonClientError) -> URL {
            guard let raw = environment[key], !raw.isEmpty else { return fallback }
            guard let u = URL(string: raw), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil else {
                throw .configuration("\(key) is not an http(s) URL")
            }
            guard scheme == "https" || AmazonEndpoints.isLoopback(u) else {
                throw .configuration("\(key) must be https unless it points at this machine (127.0.0.1, ::1, localhost)")
            }
            return u
        }
        guard let id = environment["OPTMAZON_LWA_CLIENT_ID"], !id.isEmpty else {
            throw .configuration("OPTMAZON_LWA_CLIENT_ID is not set")
        }
        guard let secret = environment["OPTMAZON_LWA_CLIENT_SECRET"], !secret.isEmpty else {
            throw .configuration("OPTMAZON_LWA_CLIENT_SECRET is not set")
        }
        let minimum: TLSVersion
        switch environment["OPTMAZON_TLS_MINIMUM"] ?? "" {
        case "", "1.3": minimum = .tlsv13
        case "1.2": minimum = .tlsv12
        case let other: throw .configuration("OPTMAZON_TLS_MINIMUM must be 1.2 or 1.3, got '\(other)'")
        }
        self.init(endpoints: AmazonEndpoints(spapi: try url("OPTMAZON_SPAPI_URL", prod.spapi),
                                             lwaToken: try url("OPTMAZON_LWA_URL", prod.lwaToken),
                                             ads: try url("OPTMAZON_ADS_URL", prod.ads)),
                  lwaClientID: id, lwaClientSecret: secret,
                  minimumTLSVersion: Dictionary(uniqueKeysWithValues: AmazonService.allCases.map { ($0, minimum) }))
    }
}

/// A seller's two independent authorizations: SP-API and (optionally) the Ads API.
public struct SellerAuthorization: Sendable, Hashable {
    public var sellerID: SellerID
    /// LWA refresh token of the SP-API grant (`Atzr|…`).
    public var spapiRefreshToken: String
    /// LWA refresh token of the separate Ads grant, when the seller connected advertising.
    public var adsRefreshToken: String?

    public init(sellerID: SellerID, spapiRefreshToken: String, adsRefreshToken: String? = nil) {
        self.sellerID = sellerID
        self.spapiRefreshToken = spapiRefreshToken
        self.adsRefreshToken = adsRefreshToken
    }
}
