import Analysis
import Domain
import Foundation
import Testing

@Suite("Analyzer: known answers are found, clean sellers raise nothing")
struct AnalyzerTests {
    @Test("a clean seller produces no recommendation and no alert")
    func cleanSellerIsQuiet() {
        let result = SellerFixture.clean().analyze()
        #expect(result.recommendations.isEmpty, "\(result.recommendations.map { "\($0.ruleID) \($0.summary)" })")
        #expect(result.alerts.isEmpty, "\(result.alerts.map { "\($0.kind) \($0.summary)" })")
        #expect(result.qualityScores.map(\.score) == [100])
        #expect(result.rewrites.isEmpty)
    }

    @Test("the same input analyzed twice, or in another order, gives equal results")
    func deterministic() throws {
        var f = SellerFixture.clean()
        f.listings = [SellerFixture.listing(title: SellerFixture.cleanTitle + " Free Shipping!", backend: "flask best flask b0abcdefgh")]
        f.offers = [SellerFixture.offer(won: false, buyBoxPrice: 22.49, buyBoxSeller: "A2RIVAL",
                                        competitors: [SellerFixture.competitor("A2RIVAL", price: 22.49, winner: true),
                                                      SellerFixture.competitor("A9NEW", price: 21.99, fba: false)])]
        f.addKeyword("K3", text: "cheap bottle", days: -60...(-5), clicks: 3, cost: 3)
        f.addSearchTerm("kids water bottle", days: -30...(-5), clicks: 2, cost: 1.5, orders: 1, sales: 25)
        f.searchQueries.append(SellerFixture.sqp(query: "bpa free kids bottle", volume: 3_000, impressionShare: 0.02,
                                                 clickShare: 0.05, purchaseShare: 0.12))
        let first = f.analyze()
        let second = f.analyze()
        #expect(first == second)
        #expect(!first.recommendations.isEmpty && !first.alerts.isEmpty)

        var shuffled = f
        shuffled.adMetrics.reverse()
        shuffled.searchTerms.reverse()
        shuffled.searchQueries.reverse()
        shuffled.salesTraffic.reverse()
        shuffled.targets.reverse()
        #expect(shuffled.analyze() == first)
        #expect(Set(first.recommendations.map(\.id)).count == first.recommendations.count, "ids are unique")

        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        #expect(try encoder.encode(first) == encoder.encode(second))
    }

    @Test("rows interleaved across targets, ad groups, terms and ASINs give the same result as rows listed together")
    func interleavedRows() {
        // Reports usually list one target's (or ASIN's) days together, and the analyzer reads such runs fast;
        // any other order must sum to the same findings.
        var f = SellerFixture.clean()
        f.adGroups.append(AdGroup(day: SellerFixture.day, adGroupID: "G2", campaignID: "C1", name: "Mugs", state: "ENABLED",
                                  defaultBid: 0.6))
        for (id, group, text) in [("K3", "G1", "cheap bottle"), ("K4", "G2", "travel mug"), ("K5", "G2", "camping mug")] {
            f.targets.append(AdTarget(day: SellerFixture.day, targetID: id, adGroupID: group, campaignID: "C1", kind: .keyword,
                                      text: text, matchType: "BROAD", state: "ENABLED", bid: 1.2))
            for d in -60...(-5) {
                f.adMetrics.append(AdMetricRow(day: SellerFixture.day(d), campaignID: "C1", adGroupID: group, targetID: id,
                                               impressions: 100, clicks: 2, cost: 1.4, purchases: d % 9 == 0 ? 1 : 0,
                                               sales: d % 9 == 0 ? 20 : 0))
            }
        }
        // Two spellings of one term in G2, a second term there, and the same term in G1: three term slots.
        for d in -40...(-5) {
            for (group, term, orders) in [("G2", "Travel  Mug Set", 0), ("G2", "travel mug set", 0), ("G2", "steel mug", d % 4 == 0 ? 1 : 0),
                                          ("G1", "travel mug set", 0)] {
                f.searchTerms.append(SearchTermRow(day: SellerFixture.day(d), campaignID: "C1", adGroupID: group, targetID: "K4",
                                                   searchTerm: term, matchType: "BROAD", impressions: 50, clicks: 1, cost: 0.9,
                                                   purchases: orders, sales: Double(orders) * 22))
            }
        }
        f.listings.append(SellerFixture.listing(sku: "SKU-2", asin: "B0TEST0002", title: "Acme Travel Mug 16 oz"))
        for d in -40...0 {
            f.salesTraffic.append(SalesTrafficRow(day: SellerFixture.day(d), marketplaceID: "ATVPDKIKX0DER", asin: "B0TEST0002",
                                                  sessions: 150, pageViews: 160, buyBoxPercentage: d > -7 ? 50 : 95,
                                                  unitSessionPercentage: 10, unitsOrdered: 15, orderedProductSales: 300))
        }
        for w in 1...6 {
            f.searchQueries.append(SellerFixture.sqp(asin: "B0TEST0002", query: "insulated travel mug", weeksAgo: w,
                                                     purchaseShare: 0.2))
        }
        let grouped = f.analyze()
        #expect(grouped.recommendations(rule: "ads.negative.candidate").map(\.subject).sorted() == ["travel mug set", "travel mug set"])
        #expect(grouped.recommendations(rule: "ads.negative.candidate").compactMap { $0.evidence("clicks") }.sorted() == ["36", "72"],
                "the two spellings in G2 are one term")
        #expect(!grouped.recommendations(rule: "keywords.gap").isEmpty)
        #expect(!grouped.alerts(kind: "buybox.percentage.drop").isEmpty)

        // Deal every list out like cards into three piles and stack them: no run of one key survives.
        func dealt<T>(_ rows: [T]) -> [T] {
            (0..<3).flatMap { pile in stride(from: pile, to: rows.count, by: 3).map { rows[$0] } }
        }
        var interleaved = f
        interleaved.adMetrics = dealt(f.adMetrics)
        interleaved.searchTerms = dealt(f.searchTerms)
        interleaved.salesTraffic = dealt(f.salesTraffic)
        interleaved.searchQueries = dealt(f.searchQueries)
        interleaved.targets = dealt(f.targets)
        #expect(interleaved.analyze() == grouped)
    }

    @Test("ids depend on rule, subject and day only")
    func stableIDs() throws {
        var f = SellerFixture.clean()
        f.listings = [SellerFixture.listing(title: SellerFixture.cleanTitle + "!")]
        let a = try #require(f.analyze().recommendations(rule: "listing.title.banned_chars").first)
        #expect(a.id == StableID.make(["listing.title.banned_chars", "B0TEST0001", "SKU-1", "title", "2025-06-30"]))
        #expect(a.id.count == 16)
    }

    // MARK: Family 2 and 3

    @Test("a converting query missing from the listing is a keyword gap ranked by purchases, with placement")
    func keywordGap() throws {
        var f = SellerFixture.clean()
        for w in 1...4 {
            f.searchQueries.append(SellerFixture.sqp(query: "kids bottle with straw", weeksAgo: w, purchaseShare: 0.2))
            f.searchQueries.append(SellerFixture.sqp(query: "bpa free tumbler", weeksAgo: w, purchaseShare: 0.1))
            f.searchQueries.append(SellerFixture.sqp(query: "acme bottle", weeksAgo: w, purchaseShare: 0.5))
        }
        let result = f.analyze()
        let gaps = result.recommendations(rule: "keywords.gap").sorted { $0.evidence("rank")! < $1.evidence("rank")! }
        #expect(gaps.map(\.subject) == ["kids bottle with straw", "bpa free tumbler"], "own-brand query filtered, ranked by purchases")
        let first = try #require(gaps.first)
        #expect(first.evidence("ASIN purchases") == "40")
        #expect(first.evidence("missing words") == "kids straw")
        #expect(first.evidence("placement") == "title")
        #expect(first.evidence("fits 249-byte budget") == "yes")
        // The rewrite works the gap words into the listing and stays compliant.
        let rewrite = try #require(result.rewrites.first)
        #expect(rewrite.keywordsAdded.contains("kids") && rewrite.keywordsAdded.contains("tumbler"))
        #expect(rewrite.content.backendKeywords.utf8.count <= 249)
    }

    @Test("a full backend budget sends gap words to the bullets and says it does not fit")
    func keywordGapBudget() throws {
        var f = SellerFixture.clean()
        let filler = (0..<40).map { "word\($0)" }.joined(separator: " ")
        let title = SellerFixture.cleanTitle + " " + (0..<20).map { "Size\($0)" }.joined(separator: " ")
        f.listings = [SellerFixture.listing(title: String(title.prefix(195)), backend: String(filler.prefix(245)))]
        f.previousListings = []
        for w in 1...4 {
            f.searchQueries.append(SellerFixture.sqp(query: "insulated tumbler for coffee", weeksAgo: w, purchaseShare: 0.2))
        }
        let gap = try #require(f.analyze().recommendations(rule: "keywords.gap").first)
        #expect(gap.evidence("placement") == "bullets")
        #expect(gap.evidence("fits 249-byte budget") == "no")
        #expect(gap.evidence("bytes needed") == "15")
    }

    @Test("SQP funnel: under-exposed, leaking and coverage gap found; low-volume and branded queries filtered")
    func funnel() {
        var f = SellerFixture.clean()
        for w in 1...4 {
            f.searchQueries.append(SellerFixture.sqp(query: "insulated steel bottle", weeksAgo: w, impressionShare: 0.02,
                                                     clickShare: 0.05, purchaseShare: 0.12))
            f.searchQueries.append(SellerFixture.sqp(query: "water bottle 32 oz", weeksAgo: w, impressionShare: 0.1,
                                                     clickShare: 0.2, cartShare: 0.05, purchaseShare: 0.04))
            f.searchQueries.append(SellerFixture.sqp(query: "steel water flask", weeksAgo: w, volume: 5_000, impressionShare: 0.001,
                                                     clickShare: 0, purchaseShare: 0))
            f.searchQueries.append(SellerFixture.sqp(query: "bottle lid spare", weeksAgo: w, volume: 50, impressionShare: 0.01,
                                                     clickShare: 0.1, purchaseShare: 0.3))
            f.searchQueries.append(SellerFixture.sqp(query: "acme bottle", weeksAgo: w, impressionShare: 0.01,
                                                     clickShare: 0.1, purchaseShare: 0.3))
        }
        let r = f.analyze()
        #expect(r.recommendations(rule: "sqp.under_exposed").map(\.subject) == ["insulated steel bottle"])
        #expect(r.recommendations(rule: "sqp.leaking").map(\.subject) == ["water bottle 32 oz"])
        #expect(r.recommendations(rule: "sqp.leaking").first?.summary.contains("between click and cart add") == true)
        #expect(r.recommendations(rule: "sqp.coverage_gap").map(\.subject) == ["steel water flask"])
    }

    @Test("SQP shares given as percentages are normalized to fractions")
    func percentShares() {
        var f = SellerFixture.clean()
        for w in 1...4 {
            var row = SellerFixture.sqp(query: "insulated steel bottle", weeksAgo: w, impressionShare: 0.02, clickShare: 0.05,
                                        purchaseShare: 0.12)
            (row.totalImpressions, row.totalClicks, row.totalCartAdds, row.totalPurchases) = (0, 0, 0, 0)
            (row.impressionShare, row.clickShare, row.purchaseShare) = (2, 5, 12)
            f.searchQueries.append(row)
        }
        let rec = f.analyze().recommendations(rule: "sqp.under_exposed").first
        #expect(rec?.evidence("impression share") == "2.0%")
    }

    // MARK: Family 4

    @Test("a lost Buy Box gets a capped price cut on a landed basis, never below the floor")
    func lostBuyBox() throws {
        var f = SellerFixture.clean()
        f.offers = [SellerFixture.offer(ownPrice: 22.99, ownShipping: 2.00, fba: false, won: false, buyBoxPrice: 23.49,
                                        buyBoxSeller: "A2RIVAL",
                                        competitors: [SellerFixture.competitor("A2RIVAL", price: 23.49, winner: true)])]
        let result = f.analyze()
        let rec = try #require(result.recommendations(rule: "pricing.buybox.lost").first)
        #expect(rec.evidence("own landed price") == "24.99 USD")
        #expect(rec.evidence("gap to Buy Box") == "1.50 USD (6.4%)")
        #expect(rec.evidence("recommended landed price") == "23.49 USD")
        #expect(rec.action.hasPrefix("set item price to 21.49 USD (landed 23.49 USD)"))
        #expect(rec.severity == .high)
        #expect(result.alerts(kind: "buybox.lost").first?.evidence("winner") == "A2RIVAL")
    }

    @Test("a price cut larger than the daily cap is split, and the floor is never crossed",
          arguments: [24.0, 22.0, 21.0, 20.5, 20.0, 19.99, 19.5, 15.0, 1.0])
    func floorNeverCrossed(buyBox: Double) {
        var f = SellerFixture.clean()
        f.offers = [SellerFixture.offer(won: false, buyBoxPrice: buyBox, buyBoxSeller: "A2RIVAL",
                                        competitors: [SellerFixture.competitor("A2RIVAL", price: buyBox, winner: true)])]
        let pricing = f.analyze().recommendations.filter { $0.category == "pricing" }
        for rec in pricing {
            if let landed = rec.evidence("recommended landed price"), let value = Double(landed.split(separator: " ")[0]) {
                #expect(value >= 19.99, "\(rec.action)")
                #expect(value >= 24.99 * 0.9, "daily cap of 10% holds: \(rec.action)")
            }
        }
        if buyBox < 19.99 {
            #expect(pricing.map(\.ruleID) == ["pricing.buybox.below_floor"])
        } else {
            #expect(pricing.map(\.ruleID) == ["pricing.buybox.lost"])
        }
    }

    @Test("no floor set: no price recommendation, an info finding says why")
    func noFloor() {
        var f = SellerFixture.clean()
        f.settings.guardrails = [:]
        f.offers = [SellerFixture.offer(won: false, buyBoxPrice: 23.49, buyBoxSeller: "A2RIVAL",
                                        competitors: [SellerFixture.competitor("A2RIVAL", price: 23.49, winner: true)])]
        let pricing = f.analyze().recommendations.filter { $0.category == "pricing" }
        #expect(pricing.map(\.ruleID) == ["pricing.no_floor"])
        #expect(pricing.first?.severity == .info)
        #expect(pricing.first?.summary.contains("no price floor") == true)
    }

    @Test("FOEP is the target when Amazon gives one; a suppressed Buy Box is detected")
    func foepAndSuppression() throws {
        var f = SellerFixture.clean()
        f.offers = [SellerFixture.offer(won: false, buyBoxPrice: 23.99, buyBoxSeller: "A2RIVAL",
                                        competitors: [SellerFixture.competitor("A2RIVAL", price: 23.99, winner: true)], foep: 23.49)]
        let lost = try #require(f.analyze().recommendations(rule: "pricing.buybox.lost").first)
        #expect(lost.evidence("target basis") == "the featured offer expected price")
        #expect(lost.evidence("recommended landed price") == "23.49 USD")

        f.offers = [SellerFixture.offer(won: false, buyBoxPrice: nil, buyBoxSeller: nil,
                                        competitors: [SellerFixture.competitor("A2RIVAL", price: 26.0)], foep: 23.99)]
        let result = f.analyze()
        #expect(result.recommendations(rule: "pricing.buybox.suppressed").count == 1)
        #expect(result.alerts(kind: "buybox.suppressed").count == 1)
    }

    @Test("an FBA offer may sit above an FBM Buy Box winner by the premium")
    func fbaPremium() throws {
        var f = SellerFixture.clean()
        f.offers = [SellerFixture.offer(ownPrice: 25.99, fba: true, won: false, buyBoxPrice: 24.00, buyBoxSeller: "A2RIVAL",
                                        competitors: [SellerFixture.competitor("A2RIVAL", price: 21.00, shipping: 3.00, fba: false, winner: true)])]
        let rec = try #require(f.analyze().recommendations(rule: "pricing.buybox.lost").first)
        #expect(rec.evidence("target landed price") == "24.48 USD")
    }

    @Test("guardrail breaches, headroom above a held Buy Box, and a Buy Box lost for reasons other than price")
    func otherPricingRules() throws {
        var f = SellerFixture.clean()
        f.offers = [SellerFixture.offer(ownPrice: 18.50, buyBoxPrice: 18.50, competitors: [SellerFixture.competitor("A2RIVAL", price: 26.0)])]
        let below = try #require(f.analyze().recommendations(rule: "pricing.below_floor").first)
        #expect(below.action == "raise the item price to 19.99 USD (landed 19.99 USD)")

        f.offers = [SellerFixture.offer(ownPrice: 36.00, buyBoxPrice: 36.00, competitors: [SellerFixture.competitor("A2RIVAL", price: 40.0)])]
        #expect(f.analyze().recommendations(rule: "pricing.above_ceiling").count == 1)

        f.offers = [SellerFixture.offer(competitors: [SellerFixture.competitor("A2RIVAL", price: 26.49)])]
        let raise = try #require(f.analyze().recommendations(rule: "pricing.buybox.raise_headroom").first)
        #expect(raise.evidence("recommended landed price") == "26.48 USD")
        #expect(raise.severity == .low)

        f.offers = [SellerFixture.offer(won: false, buyBoxPrice: 25.49, buyBoxSeller: "A2RIVAL",
                                        competitors: [SellerFixture.competitor("A2RIVAL", price: 25.49, winner: true)])]
        let pricing = f.analyze().recommendations.filter { $0.category == "pricing" }
        #expect(pricing.map(\.ruleID) == ["pricing.buybox.lost_not_price"])
    }

    @Test("an Amazon-reported listing error becomes a recommendation")
    func amazonIssue() {
        var f = SellerFixture.clean()
        f.listings = [SellerFixture.listing(issues: [ListingIssue(code: "90220", severity: "ERROR", message: "'item_weight' is required")])]
        let recs = f.analyze().recommendations(rule: "listing.amazon_issue")
        #expect(recs.map(\.subject) == ["90220"])
    }

    // MARK: Family 5

    @Test("a wasting keyword gets a capped bid cut with the numbers behind it")
    func wastingKeyword() throws {
        var f = SellerFixture.clean()
        f.addKeyword("K3", text: "glass bottle", bid: 1.00, days: -40...(-5), clicks: 2, cost: 1.2)
        let rec = try #require(f.analyze().recommendations(rule: "ads.bid.no_orders").first)
        #expect(rec.subject == "glass bottle [K3]")
        #expect(rec.evidence("clicks") == "72", "36 settled days × 2")
        #expect(rec.evidence("recommended bid") == "0.80 USD".replacingOccurrences(of: " USD", with: ""))
        #expect(rec.evidence("prior level") == "ad group")
        #expect(rec.action.contains("from 1.00 to 0.80"))
    }

    @Test("the last 3 days are unsettled and ignored")
    func unsettledDaysIgnored() {
        var f = SellerFixture.clean()
        // 60 clicks with no order, all inside the last three days: nothing to judge yet.
        f.addKeyword("K3", text: "glass bottle", days: -3...(-1), clicks: 20, cost: 12)
        f.addSearchTerm("glass bottle cheap", days: -3...(-1), clicks: 20, cost: 12)
        let quiet = f.analyze()
        #expect(quiet.recommendations.filter { $0.category == "ads" }.isEmpty)
        // The same data one week earlier is judged.
        var g = SellerFixture.clean()
        g.addKeyword("K3", text: "glass bottle", days: -9...(-7), clicks: 20, cost: 12)
        g.addSearchTerm("glass bottle cheap", days: -9...(-7), clicks: 20, cost: 12)
        let judged = g.analyze()
        #expect(judged.recommendations(rule: "ads.bid.no_orders").count == 1)
        #expect(judged.recommendations(rule: "ads.negative.candidate").count == 1)
    }

    @Test("below the click threshold a keyword is not judged")
    func clickThreshold() {
        var f = SellerFixture.clean()
        f.addKeyword("K3", text: "glass bottle", days: -9...(-5), clicks: 1, cost: 0.6)
        #expect(f.analyze().recommendations.filter { $0.subject.hasPrefix("glass bottle") }.isEmpty)
    }

    @Test("a high-ACoS keyword is lowered, a cheap converting one raised, both within the per-run cap and bid range")
    func bidMoves() throws {
        var f = SellerFixture.clean()
        f.addKeyword("K3", text: "travel mug", bid: 2.00, days: -40...(-5), clicks: 5, cost: 10, orders: 1, sales: 25)
        let lower = try #require(f.analyze().recommendations(rule: "ads.bid.lower").first)
        #expect(lower.evidence("recommended bid") == "1.60", "−20% cap from 2.00")
        #expect(lower.evidence("ACoS") == "40.0%")
        var g = SellerFixture.clean()
        g.addKeyword("K4", text: "gym bottle", bid: 0.40, days: -40...(-5), clicks: 5, cost: 2, orders: 1, sales: 25)
        g.settings.maxBid = 0.45
        let raise = try #require(g.analyze().recommendations(rule: "ads.bid.raise").first)
        #expect(raise.evidence("recommended bid") == "0.45", "+15% would be 0.46; max bid 0.45 wins")
    }

    @Test("smoothing: zero clicks gives the prior; data pulls towards the observed rate")
    func smoothing() {
        #expect(BidMath.smoothedConversionRate(orders: 0, clicks: 0, priorRate: 0.08, strength: 40) == 0.08)
        #expect(BidMath.smoothedConversionRate(orders: 0, clicks: 0, priorRate: 0.08, strength: 0) == 0.08)
        let some = BidMath.smoothedConversionRate(orders: 4, clicks: 20, priorRate: 0.05, strength: 40)
        #expect(abs(some - 6.0 / 60.0) < 1e-12)
        let lots = BidMath.smoothedConversionRate(orders: 200, clicks: 1_000, priorRate: 0.05, strength: 40)
        #expect(lots > 0.19 && lots < 0.2)
        #expect(BidMath.smoothedOrderValue(sales: 0, orders: 0, priorValue: 30, weight: 2) == 30)
        #expect(abs(BidMath.targetBid(targetACoSPercent: 30, conversionRate: 0.10, orderValue: 30) - 0.90) < 1e-12)
        #expect(BidMath.clickThreshold(conversionRate: 0.04, multiplier: 1, minimum: 10) == 25)
        #expect(BidMath.clickThreshold(conversionRate: 0.04, multiplier: 2, minimum: 10) == 50)
        #expect(BidMath.cappedBid(current: 1, target: 5, maxIncreasePercent: 15, maxDecreasePercent: 20, minBid: 0.02, maxBid: 10) == 1.15)
        #expect(BidMath.cappedBid(current: 1, target: 0, maxIncreasePercent: 15, maxDecreasePercent: 20, minBid: 0.02, maxBid: 10) == 0.8)
    }

    @Test("a search term spending without orders is a negative candidate; an existing negative suppresses it")
    func negatives() throws {
        var f = SellerFixture.clean()
        f.addSearchTerm("glass bottle cheap", days: -30...(-5), clicks: 1, cost: 0.6)
        let rec = try #require(f.analyze().recommendations(rule: "ads.negative.candidate").first)
        #expect(rec.evidence("clicks") == "26")
        #expect(rec.action == "add NEGATIVE_EXACT \"glass bottle cheap\" to ad group Bottles (campaign Bottles exact)")
        #expect(rec.evidence("chance of 0 orders at parent rate") == "6.5%")
        f.targets.append(AdTarget(day: SellerFixture.day, targetID: "N1", adGroupID: "G1", campaignID: "C1",
                                  kind: .negativeKeyword, text: "glass bottle cheap", matchType: "NEGATIVE_EXACT",
                                  state: "ENABLED", bid: nil))
        #expect(f.analyze().recommendations(rule: "ads.negative.candidate").isEmpty)
        var g = SellerFixture.clean()
        g.addSearchTerm("glass bottle cheap", days: -30...(-5), clicks: 1, cost: 0.6)
        g.targets.append(AdTarget(day: SellerFixture.day, targetID: "N2", adGroupID: "", campaignID: "C1",
                                  kind: .negativeKeyword, text: "Glass Bottle Cheap", matchType: "NEGATIVE_EXACT",
                                  state: "ENABLED", bid: nil))
        #expect(g.analyze().recommendations(rule: "ads.negative.candidate").isEmpty, "a campaign-level negative covers it")
    }

    @Test("a converting search term is harvested as exact with a negative in the source ad group")
    func harvesting() throws {
        var f = SellerFixture.clean()
        f.addSearchTerm("kids water bottle", days: -30...(-5), clicks: 2, cost: 1.5, orders: 1, sales: 25)
        let rec = try #require(f.analyze().recommendations(rule: "ads.harvest.exact").first)
        #expect(rec.subject == "kids water bottle")
        #expect(rec.action.contains("add EXACT keyword \"kids water bottle\" to a manual campaign"))
        #expect(rec.action.contains("add NEGATIVE_EXACT \"kids water bottle\" to source ad group Bottles"))
        #expect(rec.evidence("orders") == "26")
    }

    // MARK: Family 6

    @Test("content changes become alerts with a readable diff")
    func contentChanges() throws {
        var f = SellerFixture.clean()
        var bullets = SellerFixture.cleanBullets
        bullets[1] = "Leak proof lid with a carry handle fits most car cup holders."
        f.listings = [SellerFixture.listing(title: SellerFixture.cleanTitle.replacingOccurrences(of: "Sports", with: "Gym"),
                                            bullets: bullets, backend: SellerFixture.cleanBackend + " yoga")]
        let r = f.analyze()
        let title = try #require(r.alerts(kind: "listing.title.changed").first)
        #expect(title.diff.contains("[-Sports-] {+Gym+}"))
        let b = try #require(r.alerts(kind: "listing.bullets.changed").first)
        #expect(b.diff == "bullet 2: Leak proof lid with a carry [-loop-] {+handle+} fits most car cup [-holders and backpack pockets.-] {+holders.+}")
        #expect(r.alerts(kind: "listing.backend.changed").first?.diff.contains("{+yoga+}") == true)
    }

    @Test("suppression, status change, hijacker, price moves and Buy Box won back")
    func offerAndStatusAlerts() throws {
        var f = SellerFixture.clean()
        f.listings = [SellerFixture.listing(status: [], issues: [ListingIssue(code: "LISTING_SUPPRESSED", severity: "ERROR", message: "missing image")])]
        f.offers = [SellerFixture.offer(ownPrice: 22.49, competitors: [SellerFixture.competitor("A2RIVAL", price: 22.0),
                                                                        SellerFixture.competitor("A9HIJACK", price: 19.99, fba: false)])]
        let r = f.analyze()
        #expect(r.alerts(kind: "listing.suppressed").first?.severity == .critical)
        let hijack = try #require(r.alerts(kind: "offers.new_competitor").first)
        #expect(hijack.evidence("seller") == "A9HIJACK" && hijack.severity == .high)
        #expect(r.alerts(kind: "price.competitor.changed").first?.evidence("change") == "-13.7%")
        #expect(r.alerts(kind: "price.own.changed").first?.evidence("change") == "-10.0%")
        #expect(r.alerts.first?.kind == "listing.suppressed", "worst first")

        var g = SellerFixture.clean()
        g.previousOffers = [SellerFixture.offer(day: SellerFixture.day(-1), won: false, buyBoxSeller: "A2RIVAL")]
        g.listings = [SellerFixture.listing(status: ["DISCOVERABLE"])]
        let r2 = g.analyze()
        #expect(r2.alerts(kind: "buybox.won_back").count == 1)
        #expect(r2.alerts(kind: "listing.status.changed").count == 1)
    }

    @Test("ACoS spike, falling Buy Box percentage and falling unit session percentage")
    func trendAlerts() throws {
        var f = SellerFixture.clean()
        for i in f.adMetrics.indices where f.adMetrics[i].day >= SellerFixture.day(-10) && f.adMetrics[i].day < SellerFixture.day(-3) {
            f.adMetrics[i].purchases = 0
            f.adMetrics[i].sales = 10
        }
        for i in f.salesTraffic.indices where f.salesTraffic[i].day > SellerFixture.day(-7) {
            f.salesTraffic[i].buyBoxPercentage = 60
            f.salesTraffic[i].unitSessionPercentage = 5
        }
        let r = f.analyze()
        let spike = try #require(r.alerts(kind: "ads.acos.spike").first)
        #expect(spike.evidence("recent ACoS") == "75.0%" && spike.evidence("baseline ACoS") == "30.0%")
        #expect(r.alerts(kind: "buybox.percentage.drop").first?.evidence("drop (points)") == "35.0")
        #expect(r.alerts(kind: "conversion.drop").count == 1)
    }
}
