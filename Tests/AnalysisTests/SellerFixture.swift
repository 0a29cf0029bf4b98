import Analysis
import AnalysisTesting
import Domain

/// Builds synthetic sellers whose right answers are known. Starts clean (no finding expected); each test
/// breaks exactly the thing it checks, so a finding can only come from that change.
struct SellerFixture {
    static let day = Day(rawValue: "2025-06-30")!
    static let seller = SellerID(rawValue: "A1TESTSELLER")!

    static let cleanTitle = CleanListing.title
    static let cleanBullets = CleanListing.bullets
    static let cleanBackend = CleanListing.backend
    static let cleanDescription = CleanListing.description

    var settings: SellerSettings
    var listings: [ListingSnapshot] = []
    var previousListings: [ListingSnapshot] = []
    var offers: [OfferSnapshot] = []
    var previousOffers: [OfferSnapshot] = []
    var salesTraffic: [SalesTrafficRow] = []
    var searchQueries: [SearchQueryRow] = []
    var campaigns: [AdCampaign] = []
    var adGroups: [AdGroup] = []
    var targets: [AdTarget] = []
    var adMetrics: [AdMetricRow] = []
    var searchTerms: [SearchTermRow] = []
    var competitorBrands: [String] = []

    static func day(_ offset: Int) -> Day { day.adding(days: offset) }

    static func listing(sku: String = "SKU-1", asin: String = "B0TEST0001", day: Day = SellerFixture.day,
                        title: String = cleanTitle, bullets: [String] = cleanBullets, backend: String = cleanBackend,
                        description: String = cleanDescription, brand: String = "Acme",
                        status: [String] = ["BUYABLE", "DISCOVERABLE"], issues: [ListingIssue] = [],
                        price: Double? = 24.99) -> ListingSnapshot {
        ListingSnapshot(day: day, marketplaceID: "ATVPDKIKX0DER", sku: sku, asin: asin, title: title, bullets: bullets,
                        description: description, backendKeywords: backend, brand: brand, productType: "BOTTLE",
                        status: status, issues: issues, price: price, quantity: 120, fulfillmentChannel: "AMAZON_NA")
    }

    static func competitor(_ id: String, price: Double, shipping: Double = 0, fba: Bool = true,
                           winner: Bool = false, condition: String = "New") -> CompetitorOffer {
        CompetitorOffer(sellerID: id, listingPrice: price, shipping: shipping, isFulfilledByAmazon: fba,
                        isBuyBoxWinner: winner, condition: condition)
    }

    static func offer(sku: String = "SKU-1", asin: String = "B0TEST0001", day: Day = SellerFixture.day,
                      ownPrice: Double? = 24.99, ownShipping: Double = 0, fba: Bool = true, won: Bool = true,
                      buyBoxPrice: Double? = 24.99, buyBoxSeller: String? = "A1TESTSELLER",
                      competitors: [CompetitorOffer] = [competitor("A2RIVAL", price: 25.49)],
                      foep: Double? = nil, competitivePrice: Double? = nil) -> OfferSnapshot {
        OfferSnapshot(day: day, marketplaceID: "ATVPDKIKX0DER", asin: asin, sku: sku, ownPrice: ownPrice,
                      ownShipping: ownShipping, ownIsFBA: fba, buyBoxWon: won, buyBoxPrice: buyBoxPrice,
                      buyBoxSellerID: buyBoxSeller, competitors: competitors, featuredOfferExpectedPrice: foep,
                      competitivePrice: competitivePrice, totalOfferCount: competitors.count + (ownPrice == nil ? 0 : 1))
    }

    /// One SQP week for `asin` and `query` from shares; counts are derived so they agree with the shares.
    static func sqp(asin: String = "B0TEST0001", query: String, weeksAgo: Int = 1, volume: Int = 1_000,
                    impressionShare: Double = 0.1, clickShare: Double = 0.1, cartShare: Double = 0.1,
                    purchaseShare: Double = 0.1, totalPurchases: Int = 50) -> SearchQueryRow {
        let start = day.adding(days: -7 * weeksAgo - (day.weekday - 1))
        let impressions = volume * 20, clicks = volume / 2, carts = volume / 5
        return SearchQueryRow(
            weekStart: start, weekEnd: start.adding(days: 6), marketplaceID: "ATVPDKIKX0DER", asin: asin, query: query,
            queryScore: 1, queryVolume: volume, totalImpressions: impressions,
            asinImpressions: Int((Double(impressions) * impressionShare).rounded()), impressionShare: impressionShare,
            totalClicks: clicks, asinClicks: Int((Double(clicks) * clickShare).rounded()), clickShare: clickShare,
            totalCartAdds: carts, asinCartAdds: Int((Double(carts) * cartShare).rounded()), cartAddShare: cartShare,
            totalPurchases: totalPurchases, asinPurchases: Int((Double(totalPurchases) * purchaseShare).rounded()),
            purchaseShare: purchaseShare)
    }

    /// A clean seller: one compliant listing, Buy Box held within guardrails, steady traffic, balanced SQP,
    /// two keywords bidding exactly at the target ACoS, and a converting search term already targeted.
    static func clean() -> SellerFixture {
        let guardrail = try! PriceGuardrail(sku: "SKU-1", floor: 19.99, ceiling: 34.99)
        var f = SellerFixture(settings: SellerSettings(targetACoS: 30, minBid: 0.1, maxBid: 5, guardrails: ["SKU-1": guardrail]))
        f.listings = [listing()]
        f.previousListings = [listing(day: day(-1))]
        f.offers = [offer()]
        f.previousOffers = [offer(day: day(-1))]
        for d in -89...0 {
            f.salesTraffic.append(SalesTrafficRow(day: day(d), marketplaceID: "ATVPDKIKX0DER", asin: "B0TEST0001",
                                                  sessions: 100, pageViews: 120, buyBoxPercentage: 95,
                                                  unitSessionPercentage: 12, unitsOrdered: 12, orderedProductSales: 299.88))
        }
        for w in 1...8 {
            f.searchQueries.append(sqp(query: "insulated water bottle", weeksAgo: w))
            f.searchQueries.append(sqp(query: "stainless steel bottle 32 oz", weeksAgo: w))
        }
        f.campaigns = [AdCampaign(day: day, campaignID: "C1", name: "Bottles exact", state: "ENABLED", targetingType: "MANUAL", dailyBudget: 50)]
        f.adGroups = [AdGroup(day: day, adGroupID: "G1", campaignID: "C1", name: "Bottles", state: "ENABLED", defaultBid: 0.75)]
        f.targets = [
            AdTarget(day: day, targetID: "K1", adGroupID: "G1", campaignID: "C1", kind: .keyword, text: "insulated water bottle",
                     matchType: "EXACT", state: "ENABLED", bid: 0.75),
            AdTarget(day: day, targetID: "K2", adGroupID: "G1", campaignID: "C1", kind: .keyword, text: "steel water bottle",
                     matchType: "EXACT", state: "ENABLED", bid: 0.75),
        ]
        // 10 clicks, 1 order of 25.00 and 7.50 spend a day: CVR 10%, AOV 25, ACoS 30% → bid 0.30 × 0.10 × 25 = 0.75.
        for d in -89...(-1) {
            for k in ["K1", "K2"] {
                f.adMetrics.append(AdMetricRow(day: day(d), campaignID: "C1", adGroupID: "G1", targetID: k, impressions: 400,
                                               clicks: 10, cost: 7.5, purchases: 1, sales: 25))
            }
            f.searchTerms.append(SearchTermRow(day: day(d), campaignID: "C1", adGroupID: "G1", targetID: "K1",
                                               searchTerm: "insulated water bottle", matchType: "EXACT", impressions: 400,
                                               clicks: 10, cost: 7.5, purchases: 1, sales: 25))
        }
        return f
    }

    var input: AnalysisInput {
        AnalysisInput(sellerID: Self.seller, settings: settings, day: Self.day, listings: listings,
                      previousListings: previousListings, offers: offers, previousOffers: previousOffers,
                      salesTraffic: salesTraffic, searchQueries: searchQueries, campaigns: campaigns, adGroups: adGroups,
                      targets: targets, adMetrics: adMetrics, searchTerms: searchTerms, competitorBrands: competitorBrands)
    }

    func analyze(_ config: AnalysisConfig = .init()) -> AnalysisResult {
        Analyzer(config: config).analyze(input)
    }

    /// Adds a keyword with `days` of metrics ending `endingDaysAgo` before the analysis day.
    mutating func addKeyword(_ id: String, text: String, match: String = "BROAD", bid: Double = 1.0, days: ClosedRange<Int>,
                             clicks: Int, cost: Double, orders: Int = 0, sales: Double = 0) {
        targets.append(AdTarget(day: Self.day, targetID: id, adGroupID: "G1", campaignID: "C1", kind: .keyword, text: text,
                                matchType: match, state: "ENABLED", bid: bid))
        for d in days {
            adMetrics.append(AdMetricRow(day: Self.day(d), campaignID: "C1", adGroupID: "G1", targetID: id, impressions: 300,
                                         clicks: clicks, cost: cost, purchases: orders, sales: sales))
        }
    }

    /// Adds search-term rows for `term` matched by keyword `K2` (exact, but a different text) over `days`.
    mutating func addSearchTerm(_ term: String, source: String = "K2", match: String = "BROAD", days: ClosedRange<Int>,
                                clicks: Int, cost: Double, orders: Int = 0, sales: Double = 0) {
        for d in days {
            searchTerms.append(SearchTermRow(day: Self.day(d), campaignID: "C1", adGroupID: "G1", targetID: source,
                                             searchTerm: term, matchType: match, impressions: 200, clicks: clicks, cost: cost,
                                             purchases: orders, sales: sales))
        }
    }
}

extension AnalysisResult {
    func recommendations(rule: String) -> [Recommendation] { recommendations.filter { $0.ruleID == rule } }
    func alerts(kind: String) -> [Alert] { alerts.filter { $0.kind == kind } }
}

extension Recommendation {
    func evidence(_ name: String) -> String? { evidence.first { $0.name == name }?.value }
}

extension Alert {
    func evidence(_ name: String) -> String? { evidence.first { $0.name == name }?.value }
}
