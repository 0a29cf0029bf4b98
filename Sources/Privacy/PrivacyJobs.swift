public import Domain
public import Foundation
public import JobQueue

/// Builds the janitor's jobs the same way wherever they are enqueued (CLI, scheduler, fetcher).
public enum PrivacyJobs {
    /// Why a seller's data is wiped.
    public enum WipeTrigger: String, Sendable, CaseIterable {
        /// Access revoked (by the seller at Amazon, seen as `invalid_grant`, or by an operator).
        case revocation
        /// The seller asked for deletion (privacy policy §9).
        case deletionRequest = "deletion-request"
    }

    /// Longest operator reason kept in a receipt.
    public static let maxReasonLength = 200

    /// A wipe job. `reason` is the operator's note (a ticket id), never seller data.
    public static func wipe(_ seller: SellerID, trigger: WipeTrigger, reason: String, requestedAt: Date = Date()) -> JobEnvelope {
        JobEnvelope(kind: .wipe, seller: seller, arguments: [
            "trigger": trigger.rawValue,
            "reason": cleanReason(reason),
            "requested_at": requestedAt.formatted(.iso8601),
        ], enqueuedAt: requestedAt)
    }

    /// Unique key of a seller's wipe: one queued wipe at a time is enough (it is idempotent).
    public static func wipeKey(_ seller: SellerID) -> String { "wipe:\(seller.rawValue)" }

    /// An export job writing the archive to `path` (absolute, on the janitor's machine).
    public static func export(_ seller: SellerID, to path: String) -> JobEnvelope {
        JobEnvelope(kind: .export, seller: seller, arguments: ["out": path])
    }

    /// A retention sweep of one seller's store.
    public static func retention(_ seller: SellerID, day: Day) -> JobEnvelope {
        JobEnvelope(kind: .retention, seller: seller, arguments: ["day": day.rawValue])
    }

    /// Unique key of a seller's retention sweep on `day` (UTC).
    public static func retentionKey(_ seller: SellerID, day: Day) -> String { "retention:\(seller.rawValue):\(day.rawValue)" }

    /// One line, printable characters, at most ``maxReasonLength`` characters.
    public static func cleanReason(_ text: String) -> String {
        let flat = text.map { $0.isNewline || $0 == "\t" ? " " : $0 }.filter { !($0.asciiValue.map { $0 < 0x20 || $0 == 0x7f } ?? false) }
        return String(String(flat).trimmingCharacters(in: .whitespaces).prefix(maxReasonLength))
    }
}
