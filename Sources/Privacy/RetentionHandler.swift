public import Domain
public import Foundation
public import JobQueue
public import SellerStore

/// The `retention` job: deletes a seller's rows older than the retention window, then reclaims
/// the freed pages so deleted data does not linger in free pages of the file.
///
/// A row captured on day `today - retentionDays - 1` is deleted; one of `today - retentionDays`
/// is kept (with 90 days: 91 days old is gone, 90 and 89 stay).
public struct RetentionHandler: JobHandler {
    public let storage: SellerStorage
    public let control: ControlStore?
    public let retentionDays: Int
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - control: where purges are recorded in the audit log (nil: not recorded).
    ///   - now: the clock, injectable so tests can place "today".
    public init(storage: SellerStorage, control: ControlStore?, retentionDays: Int, now: @escaping @Sendable () -> Date = { Date() }) {
        self.storage = storage
        self.control = control
        self.retentionDays = retentionDays
        self.now = now
    }

    /// The first day kept when the sweep runs at `date` (UTC days).
    public static func cutoff(at date: Date, retentionDays: Int) -> Day {
        Day(date).adding(days: -retentionDays)
    }

    /// Closes the registry; the worker process calls it once the worker stopped.
    public func close() async {
        await control?.close()
    }

    public func handle(_ job: JobEnvelope, context: JobContext) async throws {
        let report = try await sweep(job.seller)
        if let report {
            context.logger.info("retention sweep done", metadata: [
                "cutoff": "\(report.purge.cutoff)", "deleted_rows": "\(report.purge.total)", "reclaimed_bytes": "\(report.reclaimedBytes)",
            ])
        } else {
            context.logger.info("retention sweep skipped: the seller has no store")
        }
    }

    /// What one sweep did.
    public struct Report: Sendable, Equatable {
        public var purge: PurgeReport
        public var reclaimedBytes: Int64
    }

    /// Sweeps one seller; nil when the seller has no store (never fetched, or wiped).
    public func sweep(_ seller: SellerID) async throws -> Report? {
        // Never create a store (or a key) for a seller that has none: a wiped seller stays wiped.
        guard try await storage.hasKey(seller), try await !storage.storeFiles(of: seller).isEmpty else { return nil }
        let cutoff = Self.cutoff(at: now(), retentionDays: retentionDays)
        let store: SellerStore
        do {
            store = try await storage.openSeller(seller, create: false)
        } catch let error as SellerStoreError where error.code == .keyNotFound {
            return nil
        }
        do {
            let purge = try await store.purge(olderThan: cutoff)
            let reclaimed = purge.total > 0 ? try await store.reclaimSpace() : 0
            await store.close()
            if purge.total > 0 {
                try await control?.recordAudit(seller, .purge, detail: "retention: \(purge.total) rows captured before \(cutoff) deleted", at: now())
            }
            return Report(purge: purge, reclaimedBytes: reclaimed)
        } catch {
            await store.close()
            throw PrivacyError(seller: seller, operation: "retention", reason: "\(error)")
        }
    }
}
