public import Domain
public import Foundation
public import SellerStore

/// A revoked seller whose data is still held past the wipe target.
public struct OverdueWipe: Sendable, Equatable, Codable {
    public var sellerID: SellerID
    public var revokedAt: Date
    /// When the wipe became overdue (revocation + target).
    public var dueAt: Date
    /// The privacy policy's promise (revocation + 30 days).
    public var policyDeadline: Date
    /// A janitor started the wipe and has not finished it.
    public var started: Bool

    public init(sellerID: SellerID, revokedAt: Date, dueAt: Date, policyDeadline: Date, started: Bool) {
        self.sellerID = sellerID
        self.revokedAt = revokedAt
        self.dueAt = dueAt
        self.policyDeadline = policyDeadline
        self.started = started
    }
}

/// Finds revoked sellers not yet wiped, and those past the wipe target.
///
/// The privacy policy (§6) promises deletion within 30 days of revocation; OptMazon aims for the
/// next janitor cycle, so a wipe is overdue `target` after revocation (a day by default).
public enum WipeMonitor {
    /// The policy's deadline after revocation.
    public static let policyDeadline: TimeInterval = 30 * 86_400
    /// Default target: the next daily janitor cycle.
    public static let defaultTarget: TimeInterval = 86_400

    /// Revoked sellers whose data has not been wiped yet, oldest revocation first.
    public static func pendingWipes(in control: ControlStore) async throws -> [RegisteredSeller] {
        try await control.sellers().filter { $0.status == .revoked }
            .sorted { ($0.revokedAt ?? .distantPast) < ($1.revokedAt ?? .distantPast) }
    }

    /// Pending wipes older than `target` at `now`.
    public static func overdue(in control: ControlStore, now: Date = Date(), target: TimeInterval = defaultTarget) async throws -> [OverdueWipe] {
        let started = Set(try await control.unfinishedWipes().map(\.sellerID))
        return try await pendingWipes(in: control).compactMap { seller in
            let revokedAt = seller.revokedAt ?? seller.createdAt
            let due = revokedAt.addingTimeInterval(target)
            guard due <= now else { return nil }
            return OverdueWipe(sellerID: seller.sellerID, revokedAt: revokedAt, dueAt: due,
                               policyDeadline: revokedAt.addingTimeInterval(policyDeadline), started: started.contains(seller.sellerID))
        }
    }

    /// Lines for `optmazon status`: a header and one line per overdue wipe, or a single all-clear line.
    public static func statusLines(_ overdue: [OverdueWipe], now: Date = Date()) -> [String] {
        guard !overdue.isEmpty else { return ["wipes: none overdue"] }
        var lines = ["WIPES OVERDUE: \(overdue.count) revoked seller(s) still hold data"]
        for wipe in overdue {
            let late = Int(now.timeIntervalSince(wipe.dueAt) / 3600)
            let left = wipe.policyDeadline.timeIntervalSince(now)
            let policy = left > 0 ? "policy deadline in \(Int(left / 86_400))d" : "POLICY DEADLINE PASSED \(Int(-left / 86_400))d ago"
            lines.append("  seller=\(wipe.sellerID) revoked=\(wipe.revokedAt.formatted(.iso8601)) overdue=\(late)h \(policy)\(wipe.started ? " (wipe started, unfinished)" : "")")
        }
        return lines
    }
}
