import Domain
import JobQueue

/// Why an analyze job failed: which seller and day, what went wrong, and whether a retry can help; one line via `description`.
public struct AnalyzeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The seller is not in the registry.
        case unknownSeller
        /// The job's `day` argument is not a `YYYY-MM-DD` day.
        case badDay(String)
        /// The registry or the seller's store failed (the store's error names file and operation).
        case store(String)
        /// The queue refused or failed to take the follow-up alert job.
        case queue(String)
    }

    public let seller: SellerID
    public let day: Day?
    public let reason: Reason

    public init(seller: SellerID, day: Day?, reason: Reason) {
        self.seller = seller
        self.day = day
        self.reason = reason
    }

    /// Store and queue failures may pass; an unknown seller or a malformed day will not.
    public var retryable: Bool {
        switch reason {
        case .unknownSeller, .badDay: false
        case .store, .queue: true
        }
    }

    public var description: String {
        let what = "analyze for seller \(seller)" + (day.map { " (day \($0))" } ?? "")
        switch reason {
        case .unknownSeller: return "\(what): the seller is not registered; nothing analyzed"
        case let .badDay(raw): return "\(what): bad job argument 'day' = '\(raw.prefix(40))', expected YYYY-MM-DD"
        case let .store(text): return "\(what): store: \(text)"
        case let .queue(text): return "\(what): cannot enqueue the alert job: \(text)"
        }
    }

    /// The worker's view: permanent errors are dead-lettered at once, transient ones retried with backoff.
    var jobError: JobError { retryable ? .transient(description) : .permanent(description) }
}
