import Domain
import Foundation
import JobQueue
import Logging
import PipelineTesting
import Sandbox
import SellerStore
import Testing

/// The revocation promise end to end, with the real processes an operator runs: the seller revokes at Amazon,
/// `optmazon-fetcher` meets LWA's `invalid_grant`, `optmazon-janitor` wipes, and the operator reads the receipt.
@Suite("Revocation end to end: fetcher → janitor → receipt", .serialized)
struct RevocationEndToEndTests {
    @Test("invalid_grant in a real fetcher process leads, after one janitor run, to no file, no key, no queued job, and a receipt")
    func fetcherRevocationThenJanitorWipe() async throws {
        let f = try await PrivacyFixture()
        var sandboxLogger = Logger(label: "sandbox")
        sandboxLogger.logLevel = .critical
        let sandbox = try await RunningSandbox.start(SandboxConfig(sellers: 2, skus: 4, seed: 23, timeScale: 400, reportSeconds: 20),
                                                     logger: sandboxLogger)
        let world = sandbox.server.world
        for s in world.sellers {
            try await f.control.register(SellerRegistration(
                sellerID: SellerID(rawValue: s.sellerID)!, region: .na, marketplaceIDs: [s.marketplaceID],
                spRefreshToken: Secret(s.spapiRefreshToken), adsRefreshToken: Secret(s.adsRefreshToken), adsProfileID: s.adsProfileID))
        }
        let leaving = SellerID(rawValue: world.sellers[0].sellerID)!
        let staying = SellerID(rawValue: world.sellers[1].sellerID)!
        // Data from an earlier night, and a job the scheduler queued for later.
        try await f.store(leaving, listingDays: [Day(Date()).adding(days: -1)])
        _ = try await f.queue.enqueue(JobEnvelope(kind: .analyze, seller: leaving), at: Date().addingTimeInterval(3600), uniqueKey: nil, uniqueFor: 0)
        let fingerprint = try #require(try await f.storage.keyFingerprint(of: leaving))

        // The seller removes the app in Seller Central: LWA answers invalid_grant to its refresh token from now on.
        await sandbox.server.revoke(seller: leaving.rawValue)
        var environment = f.environment
        environment["OPTMAZON_SPAPI_URL"] = sandbox.url
        environment["OPTMAZON_ADS_URL"] = sandbox.url
        environment["OPTMAZON_LWA_URL"] = sandbox.url + "/auth/o2/token"
        environment["OPTMAZON_LWA_CLIENT_SECRET"] = "sandbox-secret"
        for seller in [leaving, staying] {
            let enqueued = try await ProductProcess.run("optmazon", ["enqueue", "fetch", "--seller", seller.rawValue], environment: environment)
            #expect(enqueued.status == 0, "\(enqueued.stderr)")
        }

        let fetcher = try await ProductProcess.run("optmazon-fetcher", ["--burst"], environment: environment, timeout: 180)
        #expect(fetcher.status == 0, "\(fetcher.stderr)")
        #expect(try await f.control.seller(leaving).status == .revoked, "the fetcher marked the seller revoked")
        #expect(try await queuedJobs(f, kinds: [.wipe]).map(\.seller) == [leaving.rawValue], "and enqueued exactly one wipe")
        #expect(try await queuedJobs(f, kinds: [.analyze]).contains { $0.seller == staying.rawValue },
                "the other seller's run completed and asked for its analysis")

        let janitor = try await ProductProcess.run("optmazon-janitor", ["--burst"], environment: environment, timeout: 120)
        #expect(janitor.status == 0, "\(janitor.stderr)")

        #expect(try await f.storage.storeFiles(of: leaving).isEmpty, "no database file of the seller remains")
        #expect(try await !f.storage.hasKey(leaving), "its key is destroyed")
        let jobs = try await queuedJobs(f, kinds: JobKind.all)
        #expect(!jobs.contains { $0.seller == leaving.rawValue }, "its queued and delayed jobs are gone: \(jobs)")
        #expect(try await !f.storage.storeFiles(of: staying).isEmpty, "the other seller keeps its files")
        #expect(try await f.storage.hasKey(staying), "and its key")
        #expect(try await f.control.wipedSeller(leaving)?.status == "wiped")

        let receipt = try await ProductProcess.run("optmazon", ["receipts", "show", leaving.rawValue], environment: environment)
        #expect(receipt.status == 0, "\(receipt.stderr)")
        #expect(receipt.stdout.contains(fingerprint) && receipt.stdout.contains("revocation"), "\(receipt.stdout)")
        #expect(!receipt.stdout.contains(world.sellers[0].spapiRefreshToken) && !receipt.stdout.contains("Seller-Private-Title"))

        // The fetcher published its Amazon API calls for /metrics.
        let stats = try await f.redis.send(["HGETALL", f.queue.keys.apiStats])
        let fields = Dictionary(uniqueKeysWithValues: stride(from: 0, to: stats.array?.count ?? 0, by: 2).compactMap { i -> (String, Int)? in
            guard let field = stats.array?[i].string, let value = stats.array?[i + 1].string.flatMap(Int.init) else { return nil }
            return (field, value)
        })
        #expect((fields["createReport:calls"] ?? 0) >= 1 && (fields["getItemOffersBatch:calls"] ?? 0) >= 1, "\(fields)")
        #expect(fields.keys.allSatisfy { $0.hasSuffix(":calls") || $0.hasSuffix(":429") })
        await sandbox.stop()
        try await f.cleanup()
    }
}
