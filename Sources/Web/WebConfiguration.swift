public import Domain
public import Foundation
public import OptMazonConfig
public import AmazonClient
import NIOSSL
import Runtime

/// A missing or invalid `web.*` setting or web secret; `description` names the key and the problem in one line.
public struct WebConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The `web.*` key or environment variable at fault.
    public let key: String
    /// What is wrong with its value.
    public let message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String {
        key.hasPrefix("OPTMAZON_") ? "config: \(key): \(message)" : "config: \(key) (\(ConfigKeys.environmentName(key))): \(message)"
    }
}

/// Settings of the onboarding and operations web process (`web.*` keys, plus the state secret from the environment).
public struct WebConfiguration: Sendable {
    /// Public base URL of this site as the seller's browser reaches it; the redirect URIs registered
    /// with Amazon are `<base>/callback` (SP-API) and `<base>/ads/callback` (Ads).
    public var publicBaseURL: URL
    /// The SP-API application id (`application_id` on the consent page, `amzn1.sp.solution.…`).
    public var applicationID: String
    /// Seller Central of the region this deployment onboards, e.g. `https://sellercentral.amazon.com`.
    public var sellerCentralURL: URL
    /// Adds `version=beta` to the consent URL, required while the app is in Draft state.
    public var beta: Bool
    /// The Ads consent page (LWA `ap/oa`) of the region.
    public var adsConsentURL: URL
    /// The app's LWA client id (the Ads consent's `client_id`).
    public var lwaClientID: String
    /// Marketplace a new seller is registered with when `/authorize` names none.
    public var defaultMarketplace: Marketplace
    /// Lifetime of a `state`, seconds (at most 600).
    public var stateLifetime: TimeInterval
    /// Host and port the server binds unless `--host`/`--port` say otherwise.
    public var host: String
    /// See ``host``.
    public var port: Int

    /// The `web.*` keys, read like every other setting (config file, then `OPTMAZON_WEB_*`).
    public static let keys: [ConfigKeys.Key] = [
        ConfigKeys.Key(name: "web.host", defaultValue: "127.0.0.1", help: "address optmazon-web binds (flag --host overrides)"),
        ConfigKeys.Key(name: "web.port", defaultValue: "8080", help: "port optmazon-web listens on (flag --port overrides)"),
        ConfigKeys.Key(name: "web.public.url", defaultValue: "http://127.0.0.1:8080",
                       help: "public base URL of the site; redirect URIs are <base>/callback and <base>/ads/callback"),
        ConfigKeys.Key(name: "web.spapi.application.id", defaultValue: "amzn1.sp.solution.optmazon-sandbox",
                       help: "SP-API application id shown on Seller Central's consent page"),
        ConfigKeys.Key(name: "web.seller.central.url", defaultValue: "https://sellercentral.amazon.com",
                       help: "Seller Central URL of the region onboarded (consent page host)"),
        ConfigKeys.Key(name: "web.spapi.beta", defaultValue: "false", help: "add version=beta to the consent URL (app in Draft state)"),
        ConfigKeys.Key(name: "web.ads.consent.url", defaultValue: "https://www.amazon.com/ap/oa",
                       help: "Ads API consent page of the region (NA www.amazon.com, EU eu.account.amazon.com, FE apac.account.amazon.com)"),
        ConfigKeys.Key(name: "web.marketplace", defaultValue: "ATVPDKIKX0DER",
                       help: "marketplace a new seller is registered with when /authorize has no ?marketplace="),
        ConfigKeys.Key(name: "web.state.ttl", defaultValue: "600", help: "seconds an authorization link (signed state) stays valid, at most 600"),
    ]

    /// The environment variable holding the HMAC key of `state` values (never in the config file).
    public static let stateSecretVariable = "OPTMAZON_WEB_STATE_SECRET"

    public init(publicBaseURL: URL, applicationID: String, sellerCentralURL: URL, beta: Bool, adsConsentURL: URL,
                lwaClientID: String, defaultMarketplace: Marketplace, stateLifetime: TimeInterval, host: String = "127.0.0.1", port: Int = 8080) {
        self.publicBaseURL = publicBaseURL
        self.applicationID = applicationID
        self.sellerCentralURL = sellerCentralURL
        self.beta = beta
        self.adsConsentURL = adsConsentURL
        self.lwaClientID = lwaClientID
        self.defaultMarketplace = defaultMarketplace
        self.stateLifetime = stateLifetime
        self.host = host
        self.port = port
    }

    /// Parses the `web.*` values of loaded settings (defaults for keys the settings lack).
    public init(settings: Settings) throws(WebConfigurationError) {
        func value(_ key: String) -> String {
            settings.raw[key] ?? Self.keys.first { $0.name == key }!.defaultValue
        }
        func url(_ key: String) throws(WebConfigurationError) -> URL {
            let raw = value(key)
            guard let u = URL(string: raw), let scheme = u.scheme, ["http", "https"].contains(scheme), u.host != nil,
                  u.query == nil, u.fragment == nil else {
                throw WebConfigurationError(key: key, message: "'\(raw.prefix(200))' is not an http(s) URL without query")
            }
            return u
        }
        let beta: Bool
        switch value("web.spapi.beta").lowercased() {
        case "true", "1", "yes": beta = true
        case "false", "0", "no": beta = false
        case let other: throw WebConfigurationError(key: "web.spapi.beta", message: "'\(other.prefix(20))' must be true or false")
        }
        let marketplaceID = value("web.marketplace")
        guard let marketplace = Marketplace.named(marketplaceID) else {
            throw WebConfigurationError(key: "web.marketplace", message: "'\(marketplaceID.prefix(40))' is not a known marketplace id")
        }
        guard let ttl = Double(value("web.state.ttl")), ttl >= 1, ttl <= 600 else {
            throw WebConfigurationError(key: "web.state.ttl", message: "'\(value("web.state.ttl").prefix(20))' must be from 1 to 600 seconds")
        }
        guard let port = Int(value("web.port")), (0...65_535).contains(port) else {
            throw WebConfigurationError(key: "web.port", message: "'\(value("web.port").prefix(20))' must be a port number from 0 to 65535")
        }
        let applicationID = value("web.spapi.application.id")
        guard !applicationID.isEmpty else { throw WebConfigurationError(key: "web.spapi.application.id", message: "must not be empty") }
        let host = value("web.host")
        guard !host.isEmpty else { throw WebConfigurationError(key: "web.host", message: "must not be empty") }
        self.init(publicBaseURL: try url("web.public.url"), applicationID: applicationID,
                  sellerCentralURL: try url("web.seller.central.url"), beta: beta, adsConsentURL: try url("web.ads.consent.url"),
                  lwaClientID: settings.amazon.lwaClientID, defaultMarketplace: marketplace, stateLifetime: ttl, host: host, port: port)
    }

    /// The SP-API redirect URI (`<base>/callback`).
    public var spapiRedirectURI: String { Self.join(publicBaseURL, "callback") }
    /// The Ads redirect URI (`<base>/ads/callback`).
    public var adsRedirectURI: String { Self.join(publicBaseURL, "ads/callback") }

    static func join(_ base: URL, _ path: String) -> String {
        var text = base.absoluteString
        while text.hasSuffix("/") { text.removeLast() }
        return text + "/" + path
    }

    /// Reads the state secret from the environment, refusing a missing or short one in one line.
    public static func stateSigner(environment: [String: String], lifetime: TimeInterval) throws(WebConfigurationError) -> StateSigner {
        guard let secret = environment[stateSecretVariable], !secret.isEmpty else {
            throw WebConfigurationError(key: stateSecretVariable, message: "is not set; optmazon-web needs it to sign OAuth state (32+ random bytes)")
        }
        return try StateSigner(secret: secret, lifetime: lifetime)
    }
}

extension WebConfiguration {
    /// The Amazon client settings onboarding needs: LWA (code exchange) and the Ads host (profile lookup).
    ///
    /// Retries are short: a seller is waiting on the page and the code dies after 5 minutes.
    /// The LWA client secret comes from `OPTMAZON_LWA_CLIENT_SECRET` only.
    public static func amazonConfig(settings: Settings, environment: [String: String]) throws(AmazonClientError) -> AmazonClientConfig {
        var config = try AmazonClientConfig(environment: Stores.amazonEnvironment(settings, environment: environment))
        config.connectTimeout = .seconds(5)
        config.readTimeout = .seconds(20)
        config.retry = RetryPolicy(maxThrottleAttempts: 3, maxServerErrorAttempts: 2, baseDelay: 0.5, maxDelay: 2)
        return config
    }
}
