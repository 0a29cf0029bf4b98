import Domain
import Foundation

/// A fault the sandbox injects instead of (or before) a normal answer.
public enum SandboxFault: String, Sendable, CaseIterable {
    case throttle = "429"
    case serverError = "500"
    case slow
    case hang
    case malformed
    case truncatedGzip = "truncated-gzip"
    case expiredToken = "expired-token"
    case pii
}

/// Sandbox settings (the `optmazon-sandbox` flags).
public struct SandboxConfig: Sendable {
    public var sellers: Int
    public var skus: Int
    public var seed: UInt64
    /// How much faster than real time the sandbox's clock runs (rate limits, report processing).
    public var timeScale: Double
    /// The sandbox's "today"; injected so data never depends on the wall clock.
    public var today: Day
    /// Sellers whose refresh tokens answer `invalid_grant`.
    public var revoked: Set<String>
    /// Fault applied to every matching request (flag `--fault`).
    public var fault: SandboxFault?
    /// When set, LWA rejects other client ids/secrets with `invalid_client`.
    public var clientID: String?
    public var clientSecret: String?
    /// Simulated report processing time in sandbox seconds (scaled by `timeScale`).
    public var reportSeconds: Double
    /// Delay of the `slow` fault, real seconds.
    public var slowSeconds: Double

    public init(sellers: Int = 2, skus: Int = 20, seed: UInt64 = 1, timeScale: Double = 1, today: Day = Day(rawValue: "2025-06-18")!,
                revoked: Set<String> = [], fault: SandboxFault? = nil, clientID: String? = nil, clientSecret: String? = nil,
                reportSeconds: Double = 20, slowSeconds: Double = 1.5) {
        self.sellers = sellers
        self.skus = skus
        self.seed = seed
        self.timeScale = timeScale
        self.today = today
        self.revoked = revoked
        self.fault = fault
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.reportSeconds = reportSeconds
        self.slowSeconds = slowSeconds
    }
}

/// Mutable sandbox state: issued tokens, revocations, rate buckets, reports, armed faults and counters.
actor SandboxState {
    struct Token { var seller: String; var api: String; var expires: ContinuousClock.Instant }
    struct Report {
        var id: String
        var seller: String
        var type: String
        var created: Double
        var createdTime: String
        var start: String?
        var end: String?
        var marketplaceIDs: [String]
        var options: [String: String]
        var outcome: String
        var documentID: String?
    }
    struct Document { var bytes: Data; var contentType: String; var gzip: Bool }
    struct AdsReport: Sendable { var id: String; var seller: String; var created: Double; var request: Data; var key: String }
    struct Bucket { var tokens: Double; var updated: Double }
    struct Armed { var fault: SandboxFault; var operation: String?; var seller: String?; var remaining: Int }

    let config: SandboxConfig
    private let started = ContinuousClock.now
    private var tokens: [String: Token] = [:]
    private(set) var revoked: Set<String>
    private var usedCodes: Set<String> = []
    private var buckets: [String: Bucket] = [:]
    private var reports: [String: Report] = [:]
    private var adsReports: [String: AdsReport] = [:]
    private var documents: [String: Document] = [:]
    /// Documents being generated in the background since their report was created.
    private var rendering: [String: Task<Document, any Error>] = [:]
    private var armed: [Armed] = []
    private var counter = 0
    private(set) var requestCounts: [String: Int] = [:]
    private(set) var throttleCounts: [String: Int] = [:]
    private(set) var tokenGrants = 0
    var baseURL = ""

    init(config: SandboxConfig) {
        self.config = config
        self.revoked = config.revoked
    }

    /// Sandbox clock in sandbox seconds (real elapsed × time scale).
    func now() -> Double {
        let d = ContinuousClock.now - started
        return (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) * config.timeScale
    }

    func nextID(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    // MARK: Tokens

    func issueToken(seller: String, api: String) -> String {
        counter += 1
        tokenGrants += 1
        var rng = SplitMix64("token", String(config.seed), seller, String(counter))
        let token = "Atza|sandbox-\(String(rng.next(), radix: 36))\(String(rng.next(), radix: 36))"
        tokens[token] = Token(seller: seller, api: api, expires: .now.advanced(by: .seconds(3600)))
        return token
    }

    func lookup(token: String, api: String) -> String? {
        guard let t = tokens[token], t.api == api, t.expires > .now, !revoked.contains(t.seller) else { return nil }
        return t.seller
    }

    func expireTokens(of seller: String) {
        for (k, v) in tokens where v.seller == seller { tokens[k] = nil }
    }

    func revoke(_ seller: String) {
        revoked.insert(seller)
        expireTokens(of: seller)
    }

    func isRevoked(_ seller: String) -> Bool { revoked.contains(seller) }

    /// Marks an authorization code used; false when it was used before.
    func consume(code: String) -> Bool { usedCodes.insert(code).inserted }

    // MARK: Rate limits

    /// Takes a token from the seller's bucket for `operation`; false means answer 429.
    func admit(seller: String, operation: String, rate: Double, burst: Int) -> Bool {
        let key = "\(seller)|\(operation)"
        let t = now()
        var b = buckets[key] ?? Bucket(tokens: Double(burst), updated: t)
        b.tokens = min(Double(burst), b.tokens + (t - b.updated) * rate)
        b.updated = t
        requestCounts[operation, default: 0] += 1
        if b.tokens >= 1 - 1e-9 {
            b.tokens -= 1
            buckets[key] = b
            return true
        }
        buckets[key] = b
        throttleCounts[operation, default: 0] += 1
        return false
    }

    // MARK: Faults

    func arm(_ fault: SandboxFault, operation: String?, seller: String?, count: Int) {
        armed.append(Armed(fault: fault, operation: operation, seller: seller, remaining: count))
    }

    func takeFault(operation: String, seller: String?) -> SandboxFault? {
        guard let i = armed.firstIndex(where: { ($0.operation == nil || $0.operation == operation) && ($0.seller == nil || $0.seller == seller) }) else {
            return nil
        }
        let fault = armed[i].fault
        armed[i].remaining -= 1
        if armed[i].remaining <= 0 { armed.remove(at: i) }
        return fault
    }

    // MARK: Reports

    func addReport(_ report: Report) { reports[report.id] = report }
    func report(_ id: String) -> Report? { reports[id] }
    func setReportDocument(_ reportID: String, documentID: String) { reports[reportID]?.documentID = documentID }
    func addDocument(_ id: String, _ doc: Document) { documents[id] = doc }
    func startRendering(_ reportID: String, _ task: Task<Document, any Error>) { rendering[reportID] = task }
    func rendering(_ reportID: String) -> Task<Document, any Error>? { rendering[reportID] }
    func document(_ id: String) -> Document? { documents[id] }

    /// Adds an Ads report unless an identical one is still pending; then returns that report's id (Amazon's 425
    /// "The Request is a duplicate of : <id>") and adds nothing.
    func addAdsReport(_ report: AdsReport, processing: Double) -> String? {
        let t = now()
        if let pending = adsReports.values.first(where: { $0.key == report.key && $0.seller == report.seller && t - $0.created < processing }) {
            return pending.id
        }
        adsReports[report.id] = report
        return nil
    }

    func adsReport(_ id: String) -> AdsReport? { adsReports[id] }
    var adsReportCount: Int { adsReports.count }

    func countThrottle(_ operation: String) { throttleCounts[operation, default: 0] += 1 }
    func setBaseURL(_ url: String) { baseURL = url }

    func counts() -> (requests: [String: Int], throttled: [String: Int], tokenGrants: Int) { (requestCounts, throttleCounts, tokenGrants) }
}
