@testable import AmazonClient
import Domain
import Foundation
import Sandbox
import Testing

@Suite("Amazon client data sets against the sandbox over HTTP")
struct DataSetTests {
    @Test("All Listings report + Listings Items yield every SKU with content that breaks Amazon's rules somewhere")
    func listings() async throws {
        try await withSandbox { sandbox, client, sellers in
            let listings = try await client.fetchListings(seller: sellers[0], marketplace: usMarketplace, day: today)
            #expect(listings.count == 24)
            #expect(listings.allSatisfy { !$0.asin.isEmpty && !$0.title.isEmpty && $0.price != nil })
            #expect(listings.contains { $0.title.count == 230 })
            #expect(listings.contains { $0.backendKeywords.utf8.count == 260 })
            #expect(listings.contains { $0.bullets.count == 2 })
            #expect(listings.contains { !$0.issues.isEmpty })
            #expect(listings.contains { $0.status.isEmpty })
            // Brand missing from the listing's attributes is filled from Catalog Items.
            #expect(listings.allSatisfy { !$0.brand.isEmpty })
            let counts = await client.callCounts()
            #expect(counts["getCatalogItem"]?.calls ?? 0 > 0)
            #expect(counts["getListingsItem"]?.calls == 24)
        }
    }

    @Test("Cp1252 listing report text is decoded by the download's charset")
    func cp1252Inventory() async throws {
        try await withSandbox { _, client, sellers in
            let rows = try await client.fetchInventory(seller: sellers[0], marketplace: usMarketplace)
            #expect(rows.count == 24)
            #expect(rows.contains { $0.itemName.hasSuffix("Café™") && $0.itemName.contains("’s") })
        }
    }

    @Test("Pricing: Buy Box wins and losses, competitors, FOEP and competitive price, in batches of 20/40")
    func offers() async throws {
        try await withSandbox { _, client, sellers in
            let inventory = try await client.fetchInventory(seller: sellers[0], marketplace: usMarketplace)
            let offers = try await client.fetchOffers(seller: sellers[0], marketplace: usMarketplace, day: today,
                                                      items: inventory.map { ($0.sku, $0.asin) })
            #expect(offers.count == 24)
            #expect(offers.contains { $0.buyBoxWon })
            #expect(offers.contains { !$0.buyBoxWon && $0.buyBoxPrice != nil })
            #expect(offers.contains { !$0.competitors.isEmpty })
            #expect(offers.contains { $0.featuredOfferExpectedPrice != nil })
            #expect(offers.allSatisfy { $0.ownPrice != nil && $0.competitivePrice != nil })
            #expect(offers.allSatisfy { o in !o.competitors.contains { $0.sellerID == sellers[0].sellerID.rawValue } })
            let counts = await client.callCounts()
            #expect(counts["getItemOffersBatch"]?.calls == 2)
            #expect(counts["getCompetitivePricing"]?.calls == 2)
            #expect(counts["getFeaturedOfferExpectedPriceBatch"]?.calls == 1)
        }
    }

    @Test("Sales and Traffic report: one row per ASIN for the day")
    func salesTraffic() async throws {
        try await withSandbox { _, client, sellers in
            let rows = try await client.fetchSalesTraffic(seller: sellers[1], marketplace: usMarketplace, day: today.adding(days: -2))
            #expect(rows.count == 24)
            #expect(rows.allSatisfy { $0.pageViews >= $0.sessions && (0...100).contains($0.buyBoxPercentage) })
            // A day that has not happened yet has no data: CANCELLED, not an error.
            let future = try await client.fetchSalesTraffic(seller: sellers[1], marketplace: usMarketplace, day: today)
            #expect(future.isEmpty)
        }
    }

    @Test("Search Query Performance: last complete Sunday–Saturday week, under-exposed and leaking queries")
    func searchQueryPerformance() async throws {
        try await withSandbox { _, client, sellers in
            let inventory = try await client.fetchInventory(seller: sellers[0], marketplace: usMarketplace)
            let rows = try await client.fetchSearchQueryPerformance(seller: sellers[0], marketplace: usMarketplace, day: today,
                                                                    asins: inventory.map(\.asin))
            #expect(rows.count == 24 * 5)
            #expect(rows.allSatisfy { $0.weekStart.weekday == 1 && $0.weekEnd.weekday == 7 && $0.weekEnd < today })
            #expect(rows.contains { $0.impressionShare < 0.05 && $0.purchaseShare > $0.impressionShare * 2 })
            #expect(rows.contains { $0.clickShare > 0.1 && $0.purchaseShare < $0.clickShare / 3 })
            let counts = await client.callCounts()
            #expect(counts["createReport"]?.calls == 3)  // 18 ASINs fit in 200 characters
        }
    }

    @Test("Marketplace participations")
    func participations() async throws {
        try await withSandbox { _, client, sellers in
            let markets = try await client.fetchMarketplaceParticipations(seller: sellers[0])
            #expect(markets.map(\.marketplaceID) == [usMarketplace])
            #expect(markets[0].isParticipating)
        }
    }

    @Test("Ads: profile, campaigns, ad groups, keywords and targets, settled metrics and search terms")
    func ads() async throws {
        try await withSandbox { sandbox, client, sellers in
            let profile = try await client.adsProfile(seller: sellers[0], marketplace: usMarketplace)
            #expect(profile.profileID == sandbox.server.world.sellers[0].adsProfileID)
            let campaigns = try await client.fetchAdCampaigns(seller: sellers[0], profile: profile, day: today)
            let groups = try await client.fetchAdGroups(seller: sellers[0], profile: profile, day: today)
            let targets = try await client.fetchAdTargets(seller: sellers[0], profile: profile, day: today)
            #expect(campaigns.count == 2 && groups.count == 2)
            #expect(campaigns.contains { $0.targetingType == "AUTO" } && campaigns.contains { $0.targetingType == "MANUAL" })
            #expect(targets.contains { $0.kind == .keyword && $0.bid != nil } && targets.contains { $0.kind == .target })
            let metrics = try await client.fetchAdMetrics(seller: sellers[0], profile: profile, today: today, days: 7)
            let settledEnd = today.adding(days: -3)
            #expect(!metrics.isEmpty && metrics.allSatisfy { $0.day <= settledEnd && $0.day >= settledEnd.adding(days: -6) })
            let perTarget = metrics.filter { !$0.targetID.isEmpty }
            #expect(perTarget.contains { $0.purchases > 0 })                     // converting
            #expect(perTarget.contains { $0.clicks >= 15 && $0.purchases == 0 }) // wasting
            #expect(perTarget.contains { $0.clicks <= 1 })                       // too few clicks
            #expect(metrics.contains { $0.targetID.isEmpty })                    // campaign rows
            let terms = try await client.fetchSearchTerms(seller: sellers[0], profile: profile, today: today, days: 7)
            #expect(terms.contains { $0.purchases > 0 } && terms.allSatisfy { $0.clicks >= 1 && $0.day <= settledEnd })
        }
    }

    @Test("A duplicate Ads report request (Amazon's 425) follows the pending report instead of failing")
    func duplicateAdsReportIsFollowed() async throws {
        // Reports take 3 s of real time here, so the second request surely arrives while the first is pending.
        try await withSandbox(SandboxConfig(sellers: 1, skus: 8, seed: 7, timeScale: 200, reportSeconds: 600)) { sandbox, client, sellers in
            let profile = try await client.adsProfile(seller: sellers[0], marketplace: usMarketplace)
            async let first = client.fetchAdMetrics(seller: sellers[0], profile: profile, today: today, days: 7)
            async let second = client.fetchAdMetrics(seller: sellers[0], profile: profile, today: today, days: 7)
            let (a, b) = try await (first, second)
            #expect(!a.isEmpty && a == b, "both callers get the one report's rows")
            let requested = await sandbox.server.counts().requests["createAsyncReport"] ?? 0
            let made = await sandbox.server.adsReportsMade()
            #expect(requested == 2 * made && made > 0, "each report was requested twice and made once (\(requested) requests, \(made) reports)")
        }
    }

    @Test("The pending report id is read from a 425 answer; anything else is not taken for one")
    func duplicateReportIDParsing() {
        let id = AmazonClient.duplicateReportID(Data(#"{"code":"425","detail":"The Request is a duplicate of : 7f3c1e2a-1b2c-4d5e-8f90-abcdef012345"}"#.utf8))
        #expect(id == "7f3c1e2a-1b2c-4d5e-8f90-abcdef012345")
        #expect(AmazonClient.duplicateReportID(Data(#"{"code":"425","detail":"Too early"}"#.utf8)) == nil)
        #expect(AmazonClient.duplicateReportID(Data(#"{"detail":"duplicate of : ../../etc"}"#.utf8)) == nil)
        #expect(AmazonClient.duplicateReportID(Data("not json".utf8)) == nil)
    }
}
