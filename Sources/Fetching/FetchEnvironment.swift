import AmazonClient
import Domain
import Foundation
import JobQueue
import SellerStore

/// Settings of the fetch handlers.
public struct FetchConfiguration: Sendable {
    /// How long a run's fan-in record and its unique-job keys live, seconds; a run not finished by then
    /// never gets its analyze job (the next run supersedes it).
    public var runTTLSeconds: Double
    /// getListingsItem calls in flight per listings job (the rate limiter paces them).
    public var listingsConcurrency: Int
    /// Days of settled Ads metrics and search terms re-read per run (Amazon restates recent days).
    public var adMetricDays: Int
    /// Open seller stores kept per fetcher process.
    public var storeCacheCapacity: Int
    /// How long a seller's wipe job refuses a duplicate, seconds.
    public var wipeUniqueSeconds: Double

    public init(runTTLSeconds: Double = 48 * 3600, listingsConcurrency: Int = 16, adMetricDays: Int = 14,
                storeCacheCapacity: Int = 32, wipeUniqueSeconds: Double = 24 * 3600) {
        self.runTTLSeconds = runTTLSeconds
        self.listingsConcurrency = max(1, listingsConcurrency)
        self.adMetricDays = max(1, adMetricDays)
        self.storeCacheCapacity = max(1, storeCacheCapacity)
        self.wipeUniqueSeconds = wipeUniqueSeconds
    }
}

/// What every fetch handler shares: the registry, the seller stores, the Amazon client and the fan-in ledger.
struct FetchEnvironment: Sendable {
    let control: ControlStore
    let stores: SellerStoreCache
    let client: AmazonClient
    let ledger: any FetchRunLedger
    let configuration: FetchConfiguration

    /// Closes the registry and every cached seller store (idempotent: every fetch handler shares them).
    func close() async {
        await stores.closeAll()
        await control.close()
    }

    /// The seller as registered, refusing unknown and revoked sellers (both permanent: nothing is fetched or stored).
    func activeSeller(_ job: JobEnvelope, day: Day?) async throws(FetchError) -> RegisteredSeller {
        let registered: RegisteredSeller
        do {
            registered = try await control.seller(job.seller)
        } catch let error as SellerStoreError where error.code == .sellerNotFound {
            throw FetchError(seller: job.seller, kind: job.kind, day: day, reason: .unknownSeller)
        } catch {
            throw FetchError(seller: job.seller, kind: job.kind, day: day, reason: .store("\(error)"))
        }
        guard registered.status == .active else {
            throw FetchError(seller: job.seller, kind: job.kind, day: day, reason: .sellerRevoked)
        }
        return registered
    }

    /// Reads from the seller's store.
    func read<T: Sendable>(_ job: JobEnvelope, day: Day, _ body: @Sendable (SellerStore) async throws -> T) async throws(FetchError) -> T {
        do {
            return try await stores.withStore(job.seller, body)
        } catch {
            throw FetchError(seller: job.seller, kind: job.kind, day: day, reason: .store("\(error)"))
        }
    }

    /// Writes a data set's rows, after checking once more that the seller is still active.
    ///
    /// The check sits right before the write, inside the job's exclusive section (the worker's per-seller
    /// lock means no other job of this seller writes meanwhile), so a seller revoked before or during the
    /// fetch gets nothing stored.
    func write(_ job: JobEnvelope, day: Day, _ body: @Sendable (SellerStore) async throws -> Void) async throws(FetchError) {
        _ = try await activeSeller(job, day: day)
        do {
            try await stores.withStore(job.seller, body)
        } catch {
            throw FetchError(seller: job.seller, kind: job.kind, day: day, reason: .store("\(error)"))
        }
    }

    /// Handles LWA `invalid_grant`: enqueues the seller's wipe, marks it revoked with an audit entry, drops its
    /// queued fetch jobs; returns the permanent error the job fails with.
    ///
    /// The wipe is enqueued first (unique per seller) so that if marking the seller revoked fails, the retry of
    /// this job meets `invalid_grant` again and repeats the whole sequence; data deletion never depends on the
    /// registry write succeeding.
    func revoke(_ job: JobEnvelope, day: Day?, context: JobContext) async -> FetchError {
        let seller = job.seller
        do {
            let wipe = JobEnvelope(kind: .wipe, seller: seller, arguments: ["reason": "revoked"], traceID: job.traceID)
            let enqueued = try await context.queue.enqueue(wipe, at: nil, uniqueKey: "wipe:\(seller.rawValue)",
                                                           uniqueFor: configuration.wipeUniqueSeconds)
            if try await control.seller(seller).status != .revoked {
                try await control.setStatus(of: seller, to: .revoked)
                try await control.recordAudit(seller, .revoke, detail: "LWA invalid_grant during \(job.kind) job \(job.id); wipe enqueued")
            }
            let wipeEnqueued: Bool
            if case .enqueued = enqueued { wipeEnqueued = true } else { wipeEnqueued = false }
            do {
                let dropped = try await context.queue.dropJobs(of: seller, kinds: JobKind.fetcherKinds)
                context.logger.warning("seller revoked the authorization: marked revoked, wipe enqueued",
                                       metadata: ["dropped_fetch_jobs": "\(dropped)", "wipe_enqueued": "\(wipeEnqueued)"])
            } catch {
                // Jobs left queued fail permanently at their start (the seller is revoked); dropping them only saves work.
                context.logger.warning("seller revoked; could not drop its queued fetch jobs", metadata: ["error": "\(error)"])
            }
            return FetchError(seller: seller, kind: job.kind, day: day, reason: .revokedNow(wipeEnqueued: wipeEnqueued))
        } catch {
            return FetchError(seller: seller, kind: job.kind, day: day, reason: .store("cannot record the revocation: \(error)"))
        }
    }
}
