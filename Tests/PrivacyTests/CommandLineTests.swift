import Domain
import Foundation
import JobQueue
import PipelineTesting
import Privacy
import SellerStore
import Testing

/// The operator CLI (`optmazon`) and the janitor (`optmazon-janitor`) as real processes.
@Suite("Privacy commands", .serialized)
struct CommandLineTests {
    @Test("optmazon wipe records a deletion request; the janitor wipes; optmazon receipts show prints the receipt")
    func deletionRequestByCLI() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("CLIWIPE1")
        try await f.store(seller, listingDays: [Day(Date())])
        let fingerprint = try #require(try await f.storage.keyFingerprint(of: seller))
        _ = try await f.queue.enqueue(JobEnvelope(kind: .fetch, seller: seller))

        let wipe = try await ProductProcess.run("optmazon", ["wipe", "--seller", "CLIWIPE1", "--reason", "ticket 42"], environment: f.environment)
        #expect(wipe.status == 0, "\(wipe.stderr)")
        #expect(wipe.stdout.contains("enqueued wipe job"))
        let janitor = try await ProductProcess.run("optmazon-janitor", ["--burst"], environment: f.environment, timeout: 120)
        #expect(janitor.status == 0, "\(janitor.stderr)")

        let show = try await ProductProcess.run("optmazon", ["receipts", "show", "CLIWIPE1"], environment: f.environment)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("Deletion receipt DR-"))
        #expect(show.stdout.contains("deletion-request"))
        #expect(show.stdout.contains("ticket 42"))
        #expect(show.stdout.contains(fingerprint))
        #expect(try await !f.storage.holdsFiles(of: seller), "no key and no database file remain")
        #expect(try await queuedJobs(f, kinds: JobKind.all).isEmpty)

        let again = try await ProductProcess.run("optmazon", ["wipe", "--seller", "CLIWIPE1", "--reason", "again"], environment: f.environment)
        #expect(again.status == 0 && again.stdout.contains("already wiped"))
        try await f.cleanup()
    }

    @Test("optmazon sellers revoke marks the seller revoked and enqueues its wipe")
    func revokeByCLI() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("CLIREV1")
        let revoke = try await ProductProcess.run("optmazon", ["sellers", "revoke", "CLIREV1"], environment: f.environment)
        #expect(revoke.status == 0, "\(revoke.stderr)")
        #expect(try await f.control.seller(seller).status == .revoked)
        #expect(try await queuedJobs(f, kinds: [.wipe]).map(\.seller) == ["CLIREV1"])
        try await f.cleanup()
    }

    @Test("optmazon export waits for the janitor, reports the archive it wrote, and refuses to overwrite a file")
    func exportByCLI() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("CLIEXP1")
        try await f.store(seller, listingDays: [Day(Date())])
        let janitor = try ProductProcess("optmazon-janitor", environment: f.environment)
        let out = f.root.appendingPathComponent("seller.tar").path
        let export = try await ProductProcess.run("optmazon", ["export", "--seller", "CLIEXP1", "--out", out, "--timeout", "120"],
                                                  environment: f.environment, timeout: 150)
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stdout.contains("wrote \(out)"))
        #expect(fileMode(out) == 0o600)

        let existing = try await ProductProcess.run("optmazon", ["export", "--seller", "CLIEXP1", "--out", out], environment: f.environment)
        #expect(existing.status != 0 && existing.stderr.contains("already exists"))
        janitor.signal(SIGTERM)
        #expect(try await janitor.wait() == 0)
        try await f.cleanup()
    }
}
