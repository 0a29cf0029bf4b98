import Domain
import JobQueue

/// Why an alert job failed: which seller, which channel, what happened, and whether a retry can help; one line via `description`.
public struct AlertError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The seller is not in the registry.
        case unknownSeller
        /// A channel URL in the registry is unusable (not https, or http to a non-loopback host).
        case badEndpoint(channel: String, reason: String)
        /// A webhook is configured but `OPTMAZON_WEBHOOK_SIGNING_SECRET` is not set.
        case missingSigningSecret
        /// The endpoint could not be reached (connection refused, TLS failure, timeout).
        case unreachable(channel: String, endpoint: String, detail: String)
        /// The endpoint answered with a non-2xx status.
        case httpStatus(channel: String, endpoint: String, status: Int)
        /// The registry or the seller's store failed.
        case store(String)
    }

    public let seller: SellerID
    public let reason: Reason
    /// Alerts of the failed digest, which stay in the outbox.
    public let pendingAlerts: Int

    public init(seller: SellerID, reason: Reason, pendingAlerts: Int = 0) {
        self.seller = seller
        self.reason = reason
        self.pendingAlerts = pendingAlerts
    }

    /// Unreachable endpoints, 408, 425, 429 and 5xx answers and store failures may pass; the rest needs an operator.
    public var retryable: Bool {
        switch reason {
        case .unknownSeller, .badEndpoint, .missingSigningSecret: false
        case .unreachable, .store: true
        case let .httpStatus(_, _, status): status == 408 || status == 425 || status == 429 || status >= 500
        }
    }

    public var description: String {
        let what = "alert delivery for seller \(seller)"
        let kept = pendingAlerts > 0 ? "; \(pendingAlerts) alert\(pendingAlerts == 1 ? " stays" : "s stay") pending in the outbox" : ""
        switch reason {
        case .unknownSeller: return "\(what): the seller is not registered"
        case let .badEndpoint(channel, reason): return "\(what): \(channel) URL refused: \(reason)\(kept)"
        case .missingSigningSecret:
            return "\(what): a webhook URL is set but OPTMAZON_WEBHOOK_SIGNING_SECRET is not, so the webhook cannot be signed\(kept)"
        case let .unreachable(channel, endpoint, detail): return "\(what): \(channel) \(endpoint) unreachable: \(detail)\(kept)"
        case let .httpStatus(channel, endpoint, status): return "\(what): \(channel) \(endpoint) answered HTTP \(status)\(kept)"
        case let .store(text): return "\(what): store: \(text)\(kept)"
        }
    }

    /// The worker's view: permanent errors are dead-lettered at once, transient ones retried with backoff.
    var jobError: JobError { retryable ? .transient(description) : .permanent(description) }
}
