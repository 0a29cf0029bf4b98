import Domain
import Foundation
import GRDB
import Testing
@testable import SellerStore

@Suite("Seller data, retention, registry")
struct DataTests {
    @Test func everyDomainTypeRoundTripsAndPurgeIsPerCaptureDay() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let store = try await temp.storage().openSeller(seller("DATA1"))
        let old = "2026-08-01", new = "2026-11-20"
        let offer = { (d: String) in
            OfferSnapshot(day: day(d), marketplaceID: "ATVPDKIKX0DER", asin: "B01", sku: "S1", ownPrice: 10, ownIsFBA: true,
                          buyBoxWon: false, buyBoxPrice: 9.5, buyBoxSellerID: "OTHER",
                          competitors: [CompetitorOffer(sellerID: "OTHER", listingPrice: 9.5, shipping: 0, isFulfilledByAmazon: true, isBuyBoxWinner: true)],
                          featuredOfferExpectedPrice: 9.4, totalOfferCount: 2)
        }
        let sqp = { (d: String) in
            SearchQueryRow(weekStart: day(d), weekEnd: day(d).adding(days: 6), marketplaceID: "ATVPDKIKX0DER", asin: "B01",
                           query: "usb cable", queryScore: 1, queryVolume: 1000, totalImpressions: 5000, asinImpressions: 50,
                           impressionShare: 0.01, totalClicks: 300, asinClicks: 3, clickShare: 0.01, totalCartAdds: 30,
                           asinCartAdds: 1, cartAddShare: 0.03, totalPurchases: 20, asinPurchases: 1, purchaseShare: 0.05)
        }
        let recommendation = { (d: String) in
            Recommendation(id: "r-\(d)", day: day(d), ruleID: "listing.title.length", category: "listing", asin: "B01", sku: "S1",
                           subject: "title", severity: .high, summary: "Title too short", action: "Add keywords",
                           evidence: [Evidence("length", "20")], confidence: 0.9, expectedImpact: "more clicks")
        }
        let alert = { (d: String) in
            Alert(id: "a-\(d)", day: day(d), kind: "buybox.lost", severity: .critical, asin: "B01", sku: "S1",
                  summary: "Buy Box lost", evidence: [Evidence("price", "9.5")])
        }
        for d in [old, new] {
            try await store.save([listing("S1", day: d)])
            try await store.save([offer(d)])
            try await store.save([traffic("B01", day: d)])
            try await store.save([sqp(d)])
            try await store.save([AdCampaign(day: day(d), campaignID: "C1", name: "Camp", state: "ENABLED", targetingType: "MANUAL", dailyBudget: 20)])
            try await store.save([AdGroup(day: day(d), adGroupID: "G1", campaignID: "C1", name: "Group", state: "ENABLED", defaultBid: 0.5)])
            try await store.save([AdTarget(day: day(d), targetID: "T1", adGroupID: "G1", campaignID: "C1", kind: .keyword, text: "usb", matchType: "EXACT", state: "ENABLED", bid: 0.7)])
            try await store.save([AdMetricRow(day: day(d), campaignID: "C1", adGroupID: "G1", targetID: "T1", impressions: 100, clicks: 5, cost: 3.5, purchases: 1, sales: 19.99)])
            try await store.save([SearchTermRow(day: day(d), campaignID: "C1", adGroupID: "G1", targetID: "T1", searchTerm: "usb c", matchType: "EXACT", impressions: 10, clicks: 1, cost: 0.7, purchases: 0, sales: 0)])
            try await store.save([recommendation(d)])
            try await store.save([alert(d)])
            try await store.save([AlertDelivery(digestID: "D-\(d)", channel: "webhook", endpoint: "https://hooks.example.com",
                                                attemptedAt: day(d).startOfDayUTC, alertIDs: ["a-\(d)"], delivered: true, status: 200, error: "")])
        }
        // Saving the same key again replaces (idempotent re-fetch).
        try await store.save([listing("S1", day: new)])
        #expect(try await store.rows(ListingSnapshot.self, from: day(new)) == [listing("S1", day: new)])
        #expect(try await store.rows(OfferSnapshot.self) == [offer(old), offer(new)])
        #expect(try await store.rows(SearchQueryRow.self, through: day(old)) == [sqp(old)])
        #expect(try await store.rows(Recommendation.self).last == recommendation(new))
        #expect(try await store.undeliveredAlerts().map(\.id) == ["a-\(old)", "a-\(new)"])
        try await store.markAlert(id: "a-\(new)", state: .delivered)
        #expect(try await store.undeliveredAlerts().map(\.id) == ["a-\(old)"])

        let report = try await store.purge(olderThan: day("2026-09-01"))
        #expect(report.total == SellerTable.all.count)
        #expect(report.deletedRows.values.allSatisfy { $0 == 1 })
        for table in SellerTable.all {
            let plan = try await store.read("plan") { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN DELETE FROM \(table.name) WHERE \(table.captureColumn) < '2026-01-01'")
                    .map { $0["detail"] as String }
            }
            #expect(plan.joined().contains("USING") , "\(table.name) purge must use an index: \(plan)")
        }

        let export = try await store.exportAll()
        #expect(export.tables.map(\.name) == ["store_meta"] + SellerTable.all.map(\.name))
        #expect(export.tables.filter { $0.name != "store_meta" }.allSatisfy { $0.rows.count == 1 })
        let listings = export.tables.first { $0.name == "listing_snapshot" }!
        #expect(listings.rows[0][listings.columns.firstIndex(of: "title")!] == "Title")
        await store.close()
    }

    @Test func registryHoldsSellersSettingsAndMaskedTokens() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let control = try await temp.storage().openControlStore()
        let id = seller("REG1")
        try await control.register(SellerRegistration(
            sellerID: id, region: .na, marketplaceIDs: ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"],
            spRefreshToken: Secret("Atzr|very-secret-sp"), adsRefreshToken: Secret("Atzr|very-secret-ads"), adsProfileID: "123"))
        let duplicate = await #expect(throws: SellerStoreError.self) {
            try await control.register(SellerRegistration(sellerID: id, region: .na, marketplaceIDs: ["ATVPDKIKX0DER"], spRefreshToken: Secret("x")))
        }
        #expect(duplicate?.code == .sellerExists)
        #expect(throws: SellerStoreError.self) {
            _ = try SellerRegistration(sellerID: id, region: .eu, marketplaceIDs: ["ATVPDKIKX0DER"], spRefreshToken: Secret("x"))
        }

        let settings = try await control.updateSettings(of: id) { s in
            s.targetACoS = 25
            s.guardrails["S1"] = try PriceGuardrail(sku: "S1", floor: 10, ceiling: 20)
            s.webhookURL = "https://example.com/hook"
        }
        let stored = try await control.seller(id)
        #expect(stored.settings == settings)
        #expect(stored.marketplaceIDs == ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"])
        #expect(stored.spRefreshToken.reveal() == "Atzr|very-secret-sp")
        #expect(!"\(stored)".contains("very-secret"))
        #expect("\(stored.spRefreshToken)" == "Atzr|****** (19 chars)")
        var dumped = ""
        dump(stored, to: &dumped)
        #expect(!dumped.contains("very-secret"))
        let master = MasterKey.generate()
        var dumpedKey = ""
        dump(master, to: &dumpedKey)
        #expect(!dumpedKey.contains("bytes") && !"\(master)".contains(master.base64EncodedSecret()))

        let negative = await #expect(throws: SellerStoreError.self) {
            try await control.updateSettings(of: id) { $0.targetACoS = -5 }
        }
        #expect(negative?.code == .invalidValue)
        #expect(try await control.seller(id).settings.targetACoS == 25)

        try await control.setStatus(of: id, to: .revoked)
        #expect(try await control.seller(id).status == .revoked)
        #expect(try await control.auditLog(for: id).map(\.operation) == [.register, .updateSettings, .revoke])
        let unknown = await #expect(throws: SellerStoreError.self) { _ = try await control.seller(seller("NOPE")) }
        #expect(unknown?.code == .sellerNotFound)
        await control.close()
    }
}

@Suite("Multi-table writes")
struct StoreWriteTests {
    @Test("replace makes the rows the whole content of their days and leaves other days alone")
    func replaceIsPerDay() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let store = try await temp.storage().openSeller(seller("WRITE1"))
        try await store.save([listing("A", day: "2026-11-19"), listing("A", day: "2026-11-20"), listing("GONE", day: "2026-11-20")])
        var write = StoreWrite()
        write.replace([listing("A", day: "2026-11-20", title: "New")], days: [day("2026-11-20")])
        try await store.apply(write)
        let rows = try await store.rows(ListingSnapshot.self)
        #expect(rows.map { "\($0.day) \($0.sku) \($0.title)" } == ["2026-11-19 A Title", "2026-11-20 A New"])
        await store.close()
    }

    @Test("a write that fails part-way changes nothing in any table")
    func allOrNothing() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let store = try await temp.storage().openSeller(seller("WRITE2"))
        try await store.save([listing("KEEP", day: "2026-11-20")])
        var write = StoreWrite()
        write.replace([listing("NEW", day: "2026-11-20")], days: [day("2026-11-20")])
        write.save([traffic("B01", day: "2026-11-20")])
        // SQLite stores a NaN as NULL, which the NOT NULL confidence column refuses: the last step fails.
        write.save([Recommendation(id: "bad", day: day("2026-11-20"), ruleID: "r", category: "listing", asin: "B01", sku: "S1",
                                   subject: "title", severity: .high, summary: "s", action: "a", evidence: [],
                                   confidence: .nan, expectedImpact: "i")])
        await #expect(throws: (any Error).self) { try await store.apply(write) }
        #expect(try await store.rows(ListingSnapshot.self).map(\.sku) == ["KEEP"])
        #expect(try await store.count(SalesTrafficRow.self) == 0)
        await store.close()
    }

    @Test("alerts saved again keep the delivery state an earlier run recorded")
    func alertsKeepDeliveryState() async throws {
        let temp = TempStore()
        defer { temp.cleanup() }
        let store = try await temp.storage().openSeller(seller("WRITE3"))
        let alert = Alert(id: "a1", day: day("2026-11-20"), kind: "buybox.lost", severity: .critical, asin: "B01", sku: "S1",
                          summary: "Buy Box lost", evidence: [])
        var first = StoreWrite()
        first.saveAlertsKeepingDeliveryState([alert])
        try await store.apply(first)
        try await store.markAlert(id: "a1", state: .delivered)
        var rerun = alert
        rerun.summary = "Buy Box lost (re-run)"
        var second = StoreWrite()
        second.saveAlertsKeepingDeliveryState([rerun])
        try await store.apply(second)
        let stored = try await store.rows(Alert.self)
        #expect(stored.map(\.summary) == ["Buy Box lost (re-run)"])
        #expect(stored.first?.state == .delivered && stored.first?.attempts == 1)
        #expect(try await store.undeliveredAlerts().isEmpty, "a delivered alert is not queued again")
        await store.close()
    }
}

extension Day {
    /// Midnight UTC of this day.
    var startOfDayUTC: Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = rawValue.split(separator: "-").compactMap { Int($0) }
        return calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2]))!
    }
}
