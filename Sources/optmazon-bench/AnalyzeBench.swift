import Analysis
import Domain
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `scripts/bench analyze`: one synthetic seller with 2,000 ASINs, 90 days of history and 20,000 SQP rows,
/// analyzed once; prints wall time and peak RSS against the issue 5 targets (< 1 s, < 200 MB).
enum AnalyzeBench {
    static let asinCount = 2_000
    static let historyDays = 90
    static let sqpRows = 20_000
    static let keywordsPerASIN = 3

    /// Builds the seller, analyzes it, and returns printable lines with the figures.
    static func run() async throws -> [String] {
        let clock = ContinuousClock()
        let buildStart = clock.now
        let input = makeInput()
        let buildTime = clock.now - buildStart

        let start = clock.now
        let cpuStart = cpuSeconds()
        let result = Analyzer().analyze(input)
        let cpu = cpuSeconds() - cpuStart
        let wall = clock.now - start
        let peak = try peakRSSMegabytes()

        var byCategory: [String: Int] = [:]
        for r in result.recommendations { byCategory[r.category, default: 0] += 1 }
        let categories = byCategory.keys.sorted().map { "\($0) \(byCategory[$0]!)" }.joined(separator: ", ")
        let ms = milliseconds(wall)
        return [
            "analyze: \(asinCount) ASINs, \(historyDays) days, \(input.searchQueries.count) SQP rows, "
                + "\(input.salesTraffic.count) sales-traffic rows, \(input.adMetrics.count) ad metric rows, "
                + "\(input.searchTerms.count) search-term rows, \(input.targets.count) ad targets",
            "input built in \(Int(milliseconds(buildTime))) ms (not counted)",
            "result: \(result.recommendations.count) recommendations (\(categories)), \(result.alerts.count) alerts, "
                + "\(result.rewrites.count) rewrites",
            "wall time: \(Int(ms.rounded())) ms (target < 1000 ms) \(ms < 1000 ? "OK" : "OVER"); "
                + "CPU time \(Int((cpu * 1000).rounded())) ms (wall above CPU means other load on the machine)",
            "peak RSS: \(Int(peak.rounded())) MB (target < 200 MB) \(peak < 200 ? "OK" : "OVER")",
        ]
    }

    static func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    /// CPU seconds this process has used (user + system), to tell own work from a busy machine.
    static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Peak resident set size of this process (`VmHWM` in /proc/self/status), in MB (10^6 bytes; the kernel reports KiB).
    static func peakRSSMegabytes() throws -> Double {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kib = line.split(separator: " ").compactMap { Double($0) }.first ?? 0
            return kib * 1024 / 1_000_000
        }
        throw BenchError.noPeakRSS
    }

    enum BenchError: Error, CustomStringConvertible {
        case noPeakRSS
        var description: String { "analyze bench: /proc/self/status has no VmHWM line" }
    }

    /// A tiny deterministic generator (64-bit LCG) so every run measures the same seller.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
        mutating func chance(_ percent: Int) -> Bool { int(0...99) < percent }
    }

    static func makeInput() -> AnalysisInput {
        var g = Generator(state: 42)
        let day = Day(rawValue: "2025-06-30")!
        let days = (0..<historyDays).map { day.adding(days: -$0) }
        let marketplace = "ATVPDKIKX0DER"
        let nouns = ["bottle", "tumbler", "flask", "mug", "jar", "canteen", "cup", "jug", "thermos", "carafe"]
        let adjectives = ["insulated", "steel", "glass", "kids", "travel", "sports", "leakproof", "wide", "slim", "large"]
        let uses = ["gym", "hiking", "office", "school", "camping", "cycling", "yoga", "running", "car", "picnic"]

        var guardrails: [String: PriceGuardrail] = [:]
        var listings: [ListingSnapshot] = [], previous: [ListingSnapshot] = []
        var offers: [OfferSnapshot] = [], previousOffers: [OfferSnapshot] = []
        var traffic: [SalesTrafficRow] = []
        var queries: [SearchQueryRow] = []
        var campaigns: [AdCampaign] = [], groups: [AdGroup] = [], targets: [AdTarget] = []
        var metrics: [AdMetricRow] = [], terms: [SearchTermRow] = []
        traffic.reserveCapacity(asinCount * historyDays)
        metrics.reserveCapacity(asinCount * historyDays * keywordsPerASIN)
        terms.reserveCapacity(asinCount * historyDays)
        let weeksPerQuery = max(1, sqpRows / (asinCount * 5))
        let weekStarts = (1...weeksPerQuery).map { day.adding(days: -7 * $0 - (day.weekday - 1)) }

        for i in 0..<asinCount {
            let asin = "B0" + String(format: "%08d", i)
            let sku = "SKU-" + String(i)
            let noun = nouns[i % nouns.count], adjective = adjectives[(i / 10) % adjectives.count]
            var title = "Acme \(adjective.capitalized) \(noun.capitalized) \(12 + i % 30) oz for \(uses[i % uses.count].capitalized) and Travel"
            if g.chance(10) { title += String(repeating: " Extra Durable Design", count: 10) }
            if g.chance(5) { title += " Free Shipping!" }
            var backend = "\(uses[(i + 1) % uses.count]) \(uses[(i + 2) % uses.count]) hydration gift"
            if g.chance(10) { backend += " " + String(repeating: "ä", count: 130) }
            let bullets = (0..<(g.chance(20) ? 3 : 5)).map { "Feature \($0 + 1) of the \(adjective) \(noun) for daily use." }
            let listing = ListingSnapshot(day: day, marketplaceID: marketplace, sku: sku, asin: asin, title: title,
                                          bullets: bullets, description: "A \(adjective) \(noun) that keeps drinks cold.",
                                          backendKeywords: backend, brand: "Acme", productType: "BOTTLE",
                                          status: g.chance(1) ? [] : ["BUYABLE", "DISCOVERABLE"], price: 19.99 + Double(i % 20))
            listings.append(listing)
            var old = listing
            old.day = days[1]
            if g.chance(3) { old.title = title + " Classic" }
            previous.append(old)

            let price = 19.99 + Double(i % 20)
            if g.chance(80) { guardrails[sku] = try! PriceGuardrail(sku: sku, floor: price * 0.8, ceiling: price * 1.3) }
            let won = !g.chance(15)
            let rival = price * (won ? 1.02 : 0.95)
            let competitors = [CompetitorOffer(sellerID: "A2RIVAL\(i % 50)", listingPrice: rival, shipping: 0,
                                               isFulfilledByAmazon: true, isBuyBoxWinner: !won)]
            offers.append(OfferSnapshot(day: day, marketplaceID: marketplace, asin: asin, sku: sku, ownPrice: price,
                                        ownIsFBA: true, buyBoxWon: won, buyBoxPrice: won ? price : rival,
                                        buyBoxSellerID: won ? "A1BENCH" : "A2RIVAL\(i % 50)", competitors: competitors,
                                        totalOfferCount: 2))
            previousOffers.append(OfferSnapshot(day: days[1], marketplaceID: marketplace, asin: asin, sku: sku, ownPrice: price,
                                                ownIsFBA: true, buyBoxWon: true, buyBoxPrice: price, buyBoxSellerID: "A1BENCH",
                                                competitors: competitors.map { var c = $0; c.isBuyBoxWinner = false; return c },
                                                totalOfferCount: 2))
            for (d, date) in days.enumerated() {
                let falling = i % 40 == 0 && d < 7
                traffic.append(SalesTrafficRow(day: date, marketplaceID: marketplace, asin: asin, sessions: 80 + g.int(0...40),
                                               pageViews: 100 + g.int(0...50), buyBoxPercentage: falling ? 55 : 90 + Double(g.int(0...10)),
                                               unitSessionPercentage: 10 + Double(g.int(0...4)), unitsOrdered: 10,
                                               orderedProductSales: price * 10))
            }
            let queryTexts = ["\(adjective) \(noun)", "\(noun) for \(uses[i % uses.count])", "\(noun) with straw",
                              "bpa free \(noun)", "acme \(noun)"]
            for (q, text) in queryTexts.enumerated() {
                for start in weekStarts where queries.count < sqpRows {
                    let volume = 200 + g.int(0...5_000)
                    let imp = Double(g.int(1...150)) / 1000, click = Double(g.int(1...150)) / 1000
                    let purchase = q == 2 ? 0.2 : Double(g.int(0...150)) / 1000
                    let total = max(1, volume / 10)
                    queries.append(SearchQueryRow(
                        weekStart: start, weekEnd: start.adding(days: 6), marketplaceID: marketplace, asin: asin, query: text,
                        queryScore: q + 1, queryVolume: volume, totalImpressions: volume * 20,
                        asinImpressions: Int(Double(volume * 20) * imp), impressionShare: imp, totalClicks: volume / 2,
                        asinClicks: Int(Double(volume / 2) * click), clickShare: click, totalCartAdds: volume / 5,
                        asinCartAdds: Int(Double(volume / 5) * click), cartAddShare: click, totalPurchases: total,
                        asinPurchases: Int(Double(total) * purchase), purchaseShare: purchase))
                }
            }

            let campaignID = "C" + String(i / 20), groupID = "G" + String(i)
            if i % 20 == 0 {
                campaigns.append(AdCampaign(day: day, campaignID: campaignID, name: "Campaign \(i / 20)", state: "ENABLED",
                                            targetingType: "MANUAL", dailyBudget: 100))
            }
            groups.append(AdGroup(day: day, adGroupID: groupID, campaignID: campaignID, name: "Group \(i)", state: "ENABLED",
                                  defaultBid: 0.8))
            for k in 0..<keywordsPerASIN {
                let targetID = "T" + String(i * keywordsPerASIN + k)
                targets.append(AdTarget(day: day, targetID: targetID, adGroupID: groupID, campaignID: campaignID, kind: .keyword,
                                        text: queryTexts[k], matchType: k == 0 ? "EXACT" : "BROAD", state: "ENABLED",
                                        bid: 0.5 + Double(g.int(0...100)) / 100))
                let converts = k != 2 || i % 3 != 0
                for date in days {
                    let clicks = g.int(0...6)
                    let orders = converts && g.chance(12) ? 1 : 0
                    metrics.append(AdMetricRow(day: date, campaignID: campaignID, adGroupID: groupID, targetID: targetID,
                                               impressions: clicks * 40, clicks: clicks, cost: Double(clicks) * 0.7,
                                               purchases: orders, sales: Double(orders) * price))
                }
            }
            let termTexts = ["\(uses[(i + 3) % uses.count]) \(noun)", "cheap \(noun) set", "\(noun) \(adjective) large"]
            for (d, date) in days.enumerated() {
                let t = d % termTexts.count
                let orders = t == 0 && g.chance(20) ? 1 : 0
                terms.append(SearchTermRow(day: date, campaignID: campaignID, adGroupID: groupID,
                                           targetID: "T" + String(i * keywordsPerASIN + 1), searchTerm: termTexts[t],
                                           matchType: "BROAD", impressions: 50, clicks: 1 + g.int(0...2), cost: 0.9,
                                           purchases: orders, sales: Double(orders) * price))
            }
        }
        return AnalysisInput(sellerID: SellerID(rawValue: "A1BENCH")!,
                             settings: SellerSettings(targetACoS: 30, minBid: 0.1, maxBid: 5, guardrails: guardrails),
                             day: day, listings: listings, previousListings: previous, offers: offers,
                             previousOffers: previousOffers, salesTraffic: traffic, searchQueries: queries,
                             campaigns: campaigns, adGroups: groups, targets: targets, adMetrics: metrics,
                             searchTerms: terms, competitorBrands: ["Hydro Peak"])
    }
}
