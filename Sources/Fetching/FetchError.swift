import AmazonClient
import Domain
import JobQueue

/// Why a fetch job failed: which seller, job kind and day, and whether a retry can help; one line via `description`.
public struct FetchError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The seller is not in the registry.
        case unknownSeller
        /// The seller is revoked in the registry (before or during the fetch); nothing is stored.
        case sellerRevoked
        /// Amazon answered LWA `invalid_grant`: the seller was just marked revoked and a wipe enqueued.
        case revokedNow(wipeEnqueued: Bool)
        /// A job argument is missing or invalid.
        case badArgument(String)
        /// The Amazon client failed (its error names operation and field).
        case amazon(AmazonClientError)
        /// The seller's store or the registry failed (the store's error names file and operation).
        case store(String)
        /// The queue or the fan-in ledger in Redis failed.
        case queue(String)
    }

    public let seller: SellerID
    public let kind: JobKind
    public let day: Day?
    public let reason: Reason

    public init(seller: SellerID, kind: JobKind, day: Day?, reason: Reason) {
        self.seller = seller
        self.kind = kind
        self.day = day
        self.reason = reason
    }

    /// Whether the worker should retry: Amazon and infrastructure hiccups yes; unknown or revoked sellers,
    /// bad arguments and requests Amazon refuses as invalid, no.
    public var retryable: Bool {
        switch reason {
        case .unknownSeller, .sellerRevoked, .revokedNow, .badArgument: false
        case .store, .queue: true
        case let .amazon(error):
            switch error {
            // 425 (Ads: a duplicate report is still pending) and 409 clear once the earlier request finishes.
            case let .rejected(_, _, status, _): status == 425 || status == 409
            case .authorizationRevoked, .invalidRequest, .configuration, .adsNotConnected, .insecure: false
            case .tokenExchangeFailed, .unauthorized, .throttled, .unavailable, .malformed, .tooLarge, .reportFailed: true
            }
        }
    }

    public var description: String {
        let what = "\(kind) for seller \(seller)" + (day.map { " (day \($0))" } ?? "")
        let why: String
        switch reason {
        case .unknownSeller: why = "the seller is not registered; nothing fetched"
        case .sellerRevoked: why = "the seller is revoked; nothing stored"
        case let .revokedNow(wipeEnqueued):
            why = "LWA answered invalid_grant: seller marked revoked, " + (wipeEnqueued ? "wipe enqueued" : "wipe already queued") + "; nothing stored"
        case let .badArgument(text): why = "bad job argument: \(text)"
        case let .amazon(error): why = error.description
        case let .store(text): why = "store: \(text)"
        case let .queue(text): why = "queue: \(text)"
        }
        return "\(what): \(why)".split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// The error the worker acts on: transient (retried, then dead-lettered) or permanent (dead-lettered now).
    public var jobError: JobError {
        retryable ? .transient(description) : .permanent(description)
    }
}
