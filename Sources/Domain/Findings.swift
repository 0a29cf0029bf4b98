import Foundation

/// One number a recommendation or alert was based on, so the seller can check the reasoning.
public struct Evidence: Codable, Hashable, Sendable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// How urgent a finding is; sorts worst first.
public enum Severity: String, Codable, Sendable, CaseIterable, Comparable {
    case critical, high, medium, low, info

    public var rank: Int { Severity.allCases.firstIndex(of: self)! }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// An explainable recommendation produced by the analyzer.
public struct Recommendation: Codable, Hashable, Sendable {
    /// Deterministic id (same input, same id) so re-analysis replaces instead of duplicating.
    public var id: String
    public var day: Day
    /// Stable rule identifier, e.g. `listing.title.length`.
    public var ruleID: String
    /// `listing`, `keywords`, `sqp`, `pricing`, `ads`.
    public var category: String
    public var asin: String
    public var sku: String
    /// What the recommendation is about inside the listing: a query, a keyword id, a field.
    public var subject: String
    public var severity: Severity
    public var summary: String
    /// The concrete action: new text, new price, new bid.
    public var action: String
    public var evidence: [Evidence]
    /// 0–1: how sure the rule is, given how much data it had.
    public var confidence: Double
    public var expectedImpact: String

    public init(id: String, day: Day, ruleID: String, category: String, asin: String, sku: String, subject: String,
                severity: Severity, summary: String, action: String, evidence: [Evidence], confidence: Double,
                expectedImpact: String) {
        self.id = id
        self.day = day
        self.ruleID = ruleID
        self.category = category
        self.asin = asin
        self.sku = sku
        self.subject = subject
        self.severity = severity
        self.summary = summary
        self.action = action
        self.evidence = evidence
        self.confidence = confidence
        self.expectedImpact = expectedImpact
    }
}

/// A change worth telling the seller about, waiting in the outbox until delivered.
public struct Alert: Codable, Hashable, Sendable {
    public enum DeliveryState: String, Codable, Sendable { case pending, delivered, failed, suppressed }

    /// Idempotency key: the same change on the same day always has the same id.
    public var id: String
    public var day: Day
    /// e.g. `buybox.lost`, `listing.title.changed`, `offers.new_competitor`.
    public var kind: String
    public var severity: Severity
    public var asin: String
    public var sku: String
    public var summary: String
    /// Before/after text for content changes, empty otherwise.
    public var diff: String
    public var evidence: [Evidence]
    public var state: DeliveryState
    public var attempts: Int
    public var lastError: String

    public init(id: String, day: Day, kind: String, severity: Severity, asin: String, sku: String, summary: String,
                diff: String = "", evidence: [Evidence], state: DeliveryState = .pending, attempts: Int = 0,
                lastError: String = "") {
        self.id = id
        self.day = day
        self.kind = kind
        self.severity = severity
        self.asin = asin
        self.sku = sku
        self.summary = summary
        self.diff = diff
        self.evidence = evidence
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// Per-SKU price guardrails: the analyzer never recommends outside them.
public struct PriceGuardrail: Codable, Hashable, Sendable {
    public var sku: String
    public var floor: Double
    public var ceiling: Double

    /// Refuses a floor above the ceiling or a non-positive floor.
    public init(sku: String, floor: Double, ceiling: Double) throws(DomainError) {
        guard floor > 0, floor.isFinite, ceiling.isFinite else {
            throw .invalidValue(field: "price floor", reason: "\(floor) for SKU \(sku) must be a positive number")
        }
        guard floor <= ceiling else {
            throw .invalidValue(field: "price guardrail", reason: "floor \(floor) is above ceiling \(ceiling) for SKU \(sku)")
        }
        self.sku = sku
        self.floor = floor
        self.ceiling = ceiling
    }
}

/// What the seller configured: targets, guardrails and where alerts go.
public struct SellerSettings: Codable, Hashable, Sendable {
    /// Target advertising cost of sales, percent (default 30).
    public var targetACoS: Double
    public var minBid: Double
    public var maxBid: Double
    public var guardrails: [String: PriceGuardrail]
    public var webhookURL: String?
    public var slackWebhookURL: String?

    public init(targetACoS: Double = 30, minBid: Double = 0.02, maxBid: Double = 10, guardrails: [String: PriceGuardrail] = [:],
                webhookURL: String? = nil, slackWebhookURL: String? = nil) {
        self.targetACoS = targetACoS
        self.minBid = minBid
        self.maxBid = maxBid
        self.guardrails = guardrails
        self.webhookURL = webhookURL
        self.slackWebhookURL = slackWebhookURL
    }
}

/// One attempt to deliver a digest of alerts to one channel: a line of the alerter's delivery log.
///
/// Kept in the seller's store (encrypted, 90-day window, exported with everything else), so an operator can
/// answer "did the seller get this alert, where and when" and a retried job skips channels that already took
/// the digest. The endpoint is `scheme://host[:port]` only: webhook paths (Slack's) carry secrets.
public struct AlertDelivery: Codable, Hashable, Sendable {
    /// `<digest id>/<channel>/<attempt instant in ms>`.
    public var id: String
    /// The day of the attempt (UTC); retention counts from it.
    public var day: Day
    public var digestID: String
    /// `webhook` or `slack`.
    public var channel: String
    public var endpoint: String
    public var attemptedAt: Date
    public var alertIDs: [String]
    /// Whether the channel answered 2xx.
    public var delivered: Bool
    /// The HTTP status, when the endpoint answered.
    public var status: Int?
    /// Why the attempt failed (empty when delivered).
    public var error: String

    public init(digestID: String, channel: String, endpoint: String, attemptedAt: Date, alertIDs: [String], delivered: Bool,
                status: Int?, error: String) {
        self.id = "\(digestID)/\(channel)/\(Int64((attemptedAt.timeIntervalSince1970 * 1000).rounded()))"
        self.day = Day(attemptedAt)
        self.digestID = digestID
        self.channel = channel
        self.endpoint = endpoint
        self.attemptedAt = attemptedAt
        self.alertIDs = alertIDs
        self.delivered = delivered
        self.status = status
        self.error = error
    }
}
