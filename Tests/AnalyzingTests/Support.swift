#if canImport(Glibc)
import Glibc
#endif
import AnalysisTesting
import Domain
import Foundation
import JobQueue
import Logging
import SellerStore

/// A throwaway 0700 directory with the seller stores and the registry, under a throwaway master key.
struct TempStores {
    let root: String
    let storage: SellerStorage

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/analyzing-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        root = String(cString: made!)
        storage = try SellerStorage(StoreLocations(dataDirectory: root + "/data", keyDirectory: root + "/keys", masterKey: .generate()))
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: root) }

    /// Registers `seller` (active) with `settings`, returning the open registry.
    func register(_ seller: SellerID, settings: SellerSettings) async throws -> ControlStore {
        let control = try await storage.openControlStore()
        try await control.register(SellerRegistration(sellerID: seller, region: .na, marketplaceIDs: ["ATVPDKIKX0DER"],
                                                      spRefreshToken: Secret("Atzr|test-token")))
        try await control.updateSettings(of: seller) { $0 = settings }
        return control
    }
}

func context(_ queue: InMemoryJobQueue, job: JobEnvelope) -> JobContext {
    JobContext(logger: Logger(label: "analyzing-tests"), queue: queue,
               delivery: Delivery(kind: job.kind, receipt: "1-0", raw: job.encoded()))
}

/// A synthetic seller whose right answers are known: a clean baseline (one compliant listing holding the Buy Box,
/// steady traffic, two keywords at target ACoS) plus, with `problems`, exactly the defects the issue names.
enum Synthetic {
    static let seller = SellerID(rawValue: "A1SYNTHETIC")!
    static let day = Day(rawValue: "2025-06-30")!
    static let cleanTitle = CleanListing.title
    static let cleanBullets = CleanListing.bullets
    static let cleanBackend = CleanListing.backend
    static let cleanDescription = CleanListing.description

    /// 230 characters.
    static let longTitle = cleanTitle + " " + String(repeating: "x", count: 230 - cleanTitle.count - 1)
    /// 260 bytes of distinct words.
    static let longBackend: String = {
        let words = ["flask", "canteen", "thermos", "hydration", "jug", "gym", "hiking", "camping", "cycling", "school", "office"]
        var backend = ""
        var i = 0
        while backend.utf8.count < 260 {
            backend += (backend.isEmpty ? "" : " ") + words[i % words.count] + String(i)
            i += 1
        }
        return String(backend.prefix(260))
    }()

    static func d(_ offset: Int) -> Day { day.adding(days: offset) }

    static var settings: SellerSettings {
        SellerSettings(targetACoS: 30, minBid: 0.1, maxBid: 5,
                       guardrails: ["SKU-1": try! PriceGuardrail(sku: "SKU-1", floor: 19.99, ceiling: 34.99)])
    }

    static func listing(day: Day, title: String = cleanTitle, backend: String = cleanBackend) -> ListingSnapshot {
        ListingSnapshot(day: day, marketplaceID: "ATVPDKIKX0DER", sku: "SKU-1", asin: "B0TEST0001", title: title, bullets: cleanBullets,
                        description: cleanDescription, backendKeywords: backend, brand: "Acme", productType: "BOTTLE",
                        status: ["BUYABLE", "DISCOVERABLE"], issues: [], price: 24.99, quantity: 120, fulfillmentChannel: "AMAZON_NA")
    }

    static func offer(day: Day, won: Bool) -> OfferSnapshot {
        let rival = CompetitorOffer(sellerID: "A2RIVAL", listingPrice: won ? 25.49 : 23.49, shipping: 0, isFulfilledByAmazon: true,
                                    isBuyBoxWinner: !won, condition: "New")
        return OfferSnapshot(day: day, marketplaceID: "ATVPDKIKX0DER", asin: "B0TEST0001", sku: "SKU-1",
                             ownPrice: won ? 24.99 : 22.99, ownShipping: won ? 0 : 2, ownIsFBA: won, buyBoxWon: won,
                             buyBoxPrice: won ? 24.99 : 23.49, buyBoxSellerID: won ? seller.rawValue : "A2RIVAL", competitors: [rival],
                             featuredOfferExpectedPrice: nil, competitivePrice: nil, totalOfferCount: 2)
    }

    /// Fills `store`: 90 days of history; the newest day carries the problems when `problems` is true.
    static func fill(_ store: SellerStore, problems: Bool) async throws {
        try await store.save([listing(day: d(-1)),
                              problems ? listing(day: day, title: longTitle, backend: longBackend) : listing(day: day)])
        try await store.save([offer(day: d(-1), won: true), offer(day: day, won: !problems)])
        try await store.save((-89...0).map { o in
            SalesTrafficRow(day: d(o), marketplaceID: "ATVPDKIKX0DER", asin: "B0TEST0001", sessions: 100, pageViews: 120,
                            buyBoxPercentage: 95, unitSessionPercentage: 12, unitsOrdered: 12, orderedProductSales: 299.88)
        })
        try await store.save([AdCampaign(day: day, campaignID: "C1", name: "Bottles exact", state: "ENABLED", targetingType: "MANUAL", dailyBudget: 50)])
        try await store.save([AdGroup(day: day, adGroupID: "G1", campaignID: "C1", name: "Bottles", state: "ENABLED", defaultBid: 0.75)])
        var targets = [
            AdTarget(day: day, targetID: "K1", adGroupID: "G1", campaignID: "C1", kind: .keyword, text: "insulated water bottle",
                     matchType: "EXACT", state: "ENABLED", bid: 0.75),
            AdTarget(day: day, targetID: "K2", adGroupID: "G1", campaignID: "C1", kind: .keyword, text: "steel water bottle",
                     matchType: "EXACT", state: "ENABLED", bid: 0.75),
        ]
        var metrics: [AdMetricRow] = []
        var terms: [SearchTermRow] = []
        for o in -89...(-1) {
            for k in ["K1", "K2"] {
                metrics.append(AdMetricRow(day: d(o), campaignID: "C1", adGroupID: "G1", targetID: k, impressions: 400,
                                           clicks: 10, cost: 7.5, purchases: 1, sales: 25))
            }
            terms.append(SearchTermRow(day: d(o), campaignID: "C1", adGroupID: "G1", targetID: "K1", searchTerm: "insulated water bottle",
                                       matchType: "EXACT", impressions: 400, clicks: 10, cost: 7.5, purchases: 1, sales: 25))
        }
        if problems {
            // A wasting keyword: 36 settled days × 2 clicks, no order.
            targets.append(AdTarget(day: day, targetID: "K3", adGroupID: "G1", campaignID: "C1", kind: .keyword, text: "glass bottle",
                                    matchType: "BROAD", state: "ENABLED", bid: 1.0))
            for o in -40...(-5) {
                metrics.append(AdMetricRow(day: d(o), campaignID: "C1", adGroupID: "G1", targetID: "K3", impressions: 300,
                                           clicks: 2, cost: 1.2, purchases: 0, sales: 0))
            }
            // A converting search term not yet targeted.
            for o in -30...(-5) {
                terms.append(SearchTermRow(day: d(o), campaignID: "C1", adGroupID: "G1", targetID: "K2", searchTerm: "kids water bottle",
                                           matchType: "BROAD", impressions: 200, clicks: 2, cost: 1.5, purchases: 1, sales: 25))
            }
        }
        try await store.save(targets)
        try await store.save(metrics)
        try await store.save(terms)
    }
}

/// The usual starting point of an analyze-job test: a registered synthetic seller whose store
/// holds 90 days of data (with or without the known problems) and an empty in-memory queue.
struct AnalyzeScenario {
    let stores: TempStores
    let control: ControlStore
    let store: SellerStore
    let queue: InMemoryJobQueue

    init(problems: Bool) async throws {
        stores = try TempStores()
        control = try await stores.register(Synthetic.seller, settings: Synthetic.settings)
        store = try await stores.storage.openSeller(Synthetic.seller)
        try await Synthetic.fill(store, problems: problems)
        queue = InMemoryJobQueue()
    }
}
