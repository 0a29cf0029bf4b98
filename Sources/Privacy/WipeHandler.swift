public import Domain
public import Foundation
public import JobQueue
public import SellerStore

/// The `wipe` job: crypto-shreds a revoked seller and leaves a deletion receipt.
///
/// Order, each step safe to repeat: (1) record a wipe intent holding the key's fingerprint and an
/// inventory of what will be destroyed; (2) drop the seller's queued and delayed jobs; (3) destroy
/// the key, then the database files (`SellerStorage.wipeSeller`); (4) in one transaction reduce the
/// registry entry to id, status `wiped` and wipe time, store the receipt and remove the intent;
/// (5) drop jobs enqueued meanwhile. A janitor killed anywhere finds the intent on retry and
/// finishes; a wipe of an already wiped seller does nothing but sweep stray jobs.
///
/// Runs under the seller's lock (the worker's seller exclusivity), so no fetch of the seller runs
/// at the same time; fetchers must check the registry under that lock and store nothing for a
/// seller that is revoked or wiped.
public struct WipeHandler: JobHandler {
    public let storage: SellerStorage
    public let control: ControlStore
    private let now: @Sendable () -> Date
    private let failpoint: @Sendable (WipeStep) throws -> Void

    /// A point of the wipe, reported to an injectable failure point so tests can simulate a crash.
    public enum WipeStep: Sendable, Equatable {
        case intentRecorded, jobsDropped, keyAndFilesDestroyed, completed
    }

    /// What a wipe did.
    public enum Outcome: Sendable, Equatable {
        /// The seller was wiped now; the receipt was stored.
        case wiped(DeletionReceipt)
        /// Nothing left to do: the seller had been wiped before (receipt id when one exists).
        case alreadyWiped(receiptID: String?)
    }

    public init(storage: SellerStorage, control: ControlStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.init(storage: storage, control: control, now: now, failpoint: { _ in })
    }

    /// For crash tests: `failpoint` is called after each step and may throw to stop the wipe there.
    public init(storage: SellerStorage, control: ControlStore, now: @escaping @Sendable () -> Date = { Date() },
                failpoint: @escaping @Sendable (WipeStep) throws -> Void) {
        self.storage = storage
        self.control = control
        self.now = now
        self.failpoint = failpoint
    }

    /// Closes the registry; the worker process calls it once the worker stopped.
    public func close() async {
        await control.close()
    }

    public func handle(_ job: JobEnvelope, context: JobContext) async throws {
        let trigger = PrivacyJobs.WipeTrigger(rawValue: job.arguments["trigger"] ?? "") ?? .revocation
        let outcome = try await wipe(job.seller, trigger: trigger, reason: job.arguments["reason"] ?? "", queue: context.queue)
        switch outcome {
        case let .wiped(receipt):
            context.logger.notice("seller wiped", metadata: [
                "receipt": "\(receipt.receiptID)", "trigger": "\(receipt.trigger)", "key_fingerprint": "\(receipt.keyFingerprint ?? "none")",
            ])
        case let .alreadyWiped(receiptID):
            context.logger.info("seller already wiped", metadata: ["receipt": "\(receiptID ?? "none")"])
        }
    }

    /// Wipes one seller (see the type's documentation for the steps).
    public func wipe(_ seller: SellerID, trigger: PrivacyJobs.WipeTrigger, reason: String, queue: any JobQueue) async throws -> Outcome {
        let intent: WipeIntent
        if let unfinished = try await control.wipeIntent(for: seller) {
            intent = unfinished
        } else if try await control.wipedSeller(seller) != nil, try await registered(seller) == nil,
                  try await !storage.holdsFiles(of: seller) {
            _ = try await queue.dropJobs(of: seller, kinds: Self.droppedKinds)
            return .alreadyWiped(receiptID: try await control.deletionReceipts(for: seller).first?.receiptID)
        } else {
            let entry = try await registered(seller)
            if let entry, entry.status != .revoked {
                throw JobError.permanent(PrivacyError(seller: seller, operation: "wipe", reason: "the seller is active; revoke it first (`optmazon sellers revoke` or `optmazon wipe`)").description)
            }
            if entry == nil, try await !storage.holdsFiles(of: seller) {
                throw JobError.permanent(PrivacyError(seller: seller, operation: "wipe", reason: "not registered and no data held").description)
            }
            intent = try await control.beginWipe(WipeIntent(
                sellerID: seller, startedAt: now(), trigger: trigger.rawValue, reason: PrivacyJobs.cleanReason(reason),
                keyFingerprint: try await storage.keyFingerprint(of: seller), inventory: inventory(seller, entry: entry)))
        }
        try failpoint(.intentRecorded)

        let dropped = try await queue.dropJobs(of: seller, kinds: Self.droppedKinds)
        try failpoint(.jobsDropped)

        do {
            try await storage.wipeSeller(seller)
        } catch {
            throw PrivacyError(seller: seller, operation: "wipe", reason: "crypto-shred failed, will retry: \(error)")
        }
        guard try await !storage.holdsFiles(of: seller) else {
            throw PrivacyError(seller: seller, operation: "wipe", reason: "key or database files still present after the shred; will retry")
        }
        try failpoint(.keyAndFilesDestroyed)

        var destroyed = intent.inventory
        destroyed.append("\(dropped) queued or delayed job(s) of the seller removed from the job queue")
        let receipt = DeletionReceipt(
            receiptID: "DR-" + UUID().uuidString.prefix(13).replacingOccurrences(of: "-", with: "").uppercased(),
            sellerID: seller, trigger: intent.trigger, reason: intent.reason, startedAt: intent.startedAt,
            completedAt: now(), keyFingerprint: intent.keyFingerprint, destroyed: destroyed)
        try await control.completeWipe(receipt)
        try failpoint(.completed)

        // Jobs enqueued while the wipe ran (a scheduler tick) find nothing to work on; remove them anyway.
        _ = try await queue.dropJobs(of: seller, kinds: Self.droppedKinds)
        return .wiped(receipt)
    }

    /// Every kind but `wipe`: a duplicate wipe is a harmless no-op, and dropping the running one
    /// would lose the retry that finishes a crashed wipe.
    static let droppedKinds = JobKind.all.filter { $0 != .wipe }

    private func registered(_ seller: SellerID) async throws -> RegisteredSeller? {
        do {
            return try await control.seller(seller)
        } catch let error as SellerStoreError where error.code == .sellerNotFound {
            return nil
        }
    }

    /// What is about to be destroyed: names, sizes and counts only.
    private func inventory(_ seller: SellerID, entry: RegisteredSeller?) async throws -> [String] {
        var lines: [String] = []
        if try await storage.hasKey(seller) {
            lines.append("data key seller-\(seller.rawValue).key (256-bit AES key, overwritten and deleted)")
        }
        for file in try await storage.storeFiles(of: seller) {
            lines.append("encrypted database file \((file.path as NSString).lastPathComponent) (\(file.bytes) bytes, deleted)")
        }
        if let entry {
            var held = ["SP-API refresh token"]
            if entry.adsRefreshToken != nil { held.append("Ads API refresh token and profile id") }
            held.append("region and \(entry.marketplaceIDs.count) marketplace id(s)")
            held.append("settings and \(entry.settings.guardrails.count) price guardrail(s)")
            lines.append("registry entry reduced to id, status and wipe time: \(held.joined(separator: ", ")) deleted")
            lines.append("privacy audit log of the seller reduced to operations and times (details deleted)")
        }
        return lines
    }
}
