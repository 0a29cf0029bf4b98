import Domain
import Foundation
import JobQueue
import JobQueueRedis
import Logging
import PipelineTesting
import Privacy
import SellerStore
import Testing

@Suite("Revocation and deletion wipes", .serialized)
struct WipeTests {
    @Test("a revoked seller's wipe leaves no file and no key, drops its queued and delayed jobs, reduces its registry entry and writes a receipt")
    func endToEnd() async throws {
        let f = try await PrivacyFixture()
        let token = "Atzr|REFRESH-\(UUID().uuidString)"
        let seller = try await f.register("WIPE1", token: token)
        let other = try await f.register("KEEP1")
        let today = Day(Date())
        try await f.store(seller, listingDays: [today, today.adding(days: -1)])
        try await f.store(other, listingDays: [today])
        let fingerprint = try #require(try await f.storage.keyFingerprint(of: seller))
        _ = try await f.queue.enqueue(JobEnvelope(kind: .fetch, seller: seller))
        _ = try await f.queue.enqueue(JobEnvelope(kind: .analyze, seller: seller), at: Date().addingTimeInterval(3600), uniqueKey: nil, uniqueFor: 0)
        _ = try await f.queue.enqueue(JobEnvelope(kind: .fetch, seller: other))
        try await f.control.setStatus(of: seller, to: .revoked)
        _ = try await f.queue.enqueue(PrivacyJobs.wipe(seller, trigger: .revocation, reason: "invalid_grant"))

        let worker = JobWorker(queue: f.queue, handler: Janitor.router(storage: f.storage, control: f.control, retentionDays: 90),
                               configuration: WorkerConfiguration(kinds: JobKind.janitorKinds, blockSeconds: 0.2, burst: true),
                               logger: quietLogger())
        try await worker.run()

        #expect(try await f.storage.storeFiles(of: seller).isEmpty, "no database file of the seller remains")
        #expect(try await !f.storage.hasKey(seller), "the seller's key is destroyed")
        #expect(!FileManager.default.fileExists(atPath: f.keyDir + "/seller-WIPE1.key"))
        #expect(try await f.storage.hasKey(other), "the other seller keeps its key")
        #expect(try await !f.storage.storeFiles(of: other).isEmpty, "and its files")

        let jobs = try await queuedJobs(f, kinds: JobKind.all)
        #expect(!jobs.contains { $0.seller == "WIPE1" }, "the seller's queued and delayed jobs are gone: \(jobs)")
        #expect(jobs.contains { $0.seller == "KEEP1" && $0.kind == "fetch" })

        await #expect(throws: SellerStoreError.self) { try await f.control.seller(seller) }
        let reduced = try #require(try await f.control.wipedSeller(seller))
        #expect(reduced.status == "wiped")
        let receipt = try #require(try await f.control.deletionReceipts(for: seller).first)
        #expect(receipt.keyFingerprint == fingerprint)
        #expect(receipt.trigger == "revocation")
        #expect(receipt.destroyed.contains { $0.contains("seller-WIPE1.sqlite") })
        #expect(receipt.destroyed.contains { $0.contains("2 queued or delayed job(s)") })
        let audit = try await f.control.auditLog(for: seller)
        #expect(audit.map(\.operation).contains(.register) && audit.last?.operation == .wipe, "the trail of operations stays")
        #expect(audit.dropLast().allSatisfy { $0.detail.isEmpty }, "but no detail of them: \(audit.map(\.detail))")
        #expect(!audit.contains { $0.detail.contains("ATVPDKIKX0DER") })
        #expect(try await f.control.auditLog(for: other).contains { $0.detail.contains("ATVPDKIKX0DER") }, "other sellers' lines are untouched")
        let text = "\(receipt)"
        #expect(!text.contains(token) && !text.contains("Seller-Private-Title"), "the receipt holds no seller data")
        try await f.cleanup()
    }

    @Test("a wipe job for an active seller is refused for good and destroys nothing")
    func refusesActiveSeller() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("ACTIVE1")
        try await f.store(seller, listingDays: [Day(Date())])
        let handler = WipeHandler(storage: f.storage, control: f.control)
        let job = PrivacyJobs.wipe(seller, trigger: .revocation, reason: "")
        await #expect(throws: JobError.self) { try await handler.handle(job, context: f.context(for: job)) }
        #expect(try await f.storage.hasKey(seller))
        #expect(try await !f.storage.storeFiles(of: seller).isEmpty)
        try await f.cleanup()
    }

    @Test("a janitor that dies mid-wipe finishes the wipe on retry, with the fingerprint of the key it destroyed",
          arguments: [WipeHandler.WipeStep.intentRecorded, .jobsDropped, .keyAndFilesDestroyed])
    func crashMidWipe(step: WipeHandler.WipeStep) async throws {
        let f = try await PrivacyFixture(name: "crashMidWipe-\(step)")
        let seller = try await f.register("CRASH1")
        try await f.store(seller, listingDays: [Day(Date())])
        _ = try await f.queue.enqueue(JobEnvelope(kind: .fetch, seller: seller))
        let fingerprint = try #require(try await f.storage.keyFingerprint(of: seller))
        try await f.control.setStatus(of: seller, to: .revoked)

        struct Crash: Error {}
        let dying = WipeHandler(storage: f.storage, control: f.control, failpoint: { reached in if reached == step { throw Crash() } })
        await #expect(throws: Crash.self) { _ = try await dying.wipe(seller, trigger: .revocation, reason: "r", queue: f.queue) }
        #expect(try await f.control.wipeIntent(for: seller) != nil, "the crashed wipe left its intent")
        #expect(try await f.control.deletionReceipts(for: seller).isEmpty)

        let retry = WipeHandler(storage: f.storage, control: f.control)
        guard case let .wiped(receipt) = try await retry.wipe(seller, trigger: .revocation, reason: "r", queue: f.queue) else {
            Issue.record("the retry did not finish the wipe")
            return
        }
        #expect(receipt.keyFingerprint == fingerprint)
        #expect(try await !f.storage.holdsFiles(of: seller))
        #expect(try await f.control.wipeIntent(for: seller) == nil)
        #expect(try await queuedJobs(f, kinds: [.fetch]).isEmpty)
        #expect(try await retry.wipe(seller, trigger: .revocation, reason: "r", queue: f.queue) == .alreadyWiped(receiptID: receipt.receiptID),
                "a third run is a no-op")
        #expect(try await f.control.deletionReceipts(for: seller).count == 1)
        try await f.cleanup()
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}
