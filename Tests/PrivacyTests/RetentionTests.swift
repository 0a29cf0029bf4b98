import Domain
import Foundation
import JobQueue
import Privacy
import SellerStore
import Testing

@Suite("Retention sweep")
struct RetentionTests {
    static let today = try! Date("2026-12-01T12:00:00Z", strategy: .iso8601)

    @Test("with 90 days' retention, a row captured 91 days ago is gone after a sweep and rows of 90 and 89 days stay")
    func boundary() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("RET1")
        let todayDay = Day(Self.today)
        try await f.store(seller, listingDays: [todayDay.adding(days: -91), todayDay.adding(days: -90), todayDay.adding(days: -89)])
        let clock = TestClock(Self.today)
        let handler = RetentionHandler(storage: f.storage, control: f.control, retentionDays: 90, now: clock.now)
        let job = PrivacyJobs.retention(seller, day: todayDay)
        try await handler.handle(job, context: f.context(for: job))

        let store = try await f.storage.openSeller(seller, create: false)
        let days = try await store.rows(ListingSnapshot.self).map(\.day)
        await store.close()
        #expect(days == [todayDay.adding(days: -90), todayDay.adding(days: -89)])
        let audit = try await f.control.auditLog(for: seller).filter { $0.operation == .purge }
        #expect(audit.count == 1)
        #expect(audit.first?.detail.contains("before \(todayDay.adding(days: -90))") == true)
        try await f.cleanup()
    }

    @Test("the sweep reclaims the pages the deleted rows took: the database file shrinks")
    func reclaimsPages() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("RET2")
        let old = Day(Self.today).adding(days: -120)
        let store = try await f.storage.openSeller(seller)
        let padding = String(repeating: "x", count: 2000)
        try await store.save((0..<1500).map { listing("SKU\($0)", day: old, title: padding) })
        try await store.save([listing("KEEP", day: Day(Self.today), title: "kept")])
        await store.close()
        let path = f.storage.databasePath(for: seller)
        let before = fileSize(path)

        let report = try #require(try await RetentionHandler(storage: f.storage, control: f.control, retentionDays: 90,
                                                             now: TestClock(Self.today).now).sweep(seller))
        #expect(report.purge.deletedRows["listing_snapshot"] == 1500)
        #expect(report.reclaimedBytes > 0)
        #expect(fileSize(path) < before / 4, "file shrank from \(before) to \(fileSize(path)) bytes")
        let reopened = try await f.storage.openSeller(seller, create: false)
        try await reopened.verifyIntegrity()
        #expect(try await reopened.count(ListingSnapshot.self) == 1)
        await reopened.close()
        try await f.cleanup()
    }

    @Test("a sweep of a seller without a store creates neither a key nor a file")
    func noStore() async throws {
        let f = try await PrivacyFixture()
        let seller = try await f.register("RET3")
        let report = try await RetentionHandler(storage: f.storage, control: f.control, retentionDays: 90).sweep(seller)
        #expect(report == nil)
        #expect(try await !f.storage.holdsFiles(of: seller))
        try await f.cleanup()
    }
}
