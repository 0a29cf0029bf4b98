import Domain
import Foundation

/// SplitMix64: a tiny, well-known deterministic PRNG (hand-written because the data must be identical on
/// every platform and Swift release, which `SystemRandomNumberGenerator` does not promise).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    /// Seeds from a stable FNV-1a hash of `parts`, so each (seed, seller, sku, day) has its own stream.
    init(_ parts: String...) {
        var hash: UInt64 = 0xcbf29ce484222325
        for byte in parts.joined(separator: "|").utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100000001b3
        }
        state = hash
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
}

/// A deterministic synthetic seller of the sandbox.
public struct SandboxSeller: Sendable, Hashable {
    public let index: Int
    public let sellerID: String
    public let marketplaceID: String
    /// Refresh token of the seller's SP-API grant.
    public let spapiRefreshToken: String
    /// Refresh token of the seller's separate Ads grant.
    public let adsRefreshToken: String
    /// Authorization codes the sandbox accepts once (onboarding).
    public let spapiAuthorizationCode: String
    public let adsAuthorizationCode: String
    public let adsProfileID: String
}

/// One synthetic product of a seller.
struct SandboxProduct: Sendable {
    var sku: String
    var asin: String
    var index: Int
}

/// Everything the sandbox serves, derived from `--seed`, `--sellers` and `--skus` (no clock reads).
public struct SandboxWorld: Sendable {
    public let seed: UInt64
    public let sellers: [SandboxSeller]
    let skusPerSeller: Int
    /// Product index by seller id and ASIN, so an ASIN lookup does not regenerate the whole catalog per item
    /// (batch pricing calls name 20 ASINs each; a linear scan made the sandbox CPU-bound in benchmarks).
    private let asinIndex: [String: [String: Int]]

    public init(seed: UInt64, sellers: Int, skus: Int) {
        self.seed = seed
        self.skusPerSeller = skus
        self.sellers = (0..<sellers).map { i in
            var rng = SplitMix64("seller", String(seed), String(i))
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
            let id = "A" + String((0..<13).map { _ in rng.pick(alphabet) })
            return SandboxSeller(index: i, sellerID: id, marketplaceID: "ATVPDKIKX0DER",
                                 spapiRefreshToken: "Atzr|sandbox-spapi-\(id)", adsRefreshToken: "Atzr|sandbox-ads-\(id)",
                                 spapiAuthorizationCode: "ANsandbox-spapi-code-\(id)", adsAuthorizationCode: "ANsandbox-ads-code-\(id)",
                                 adsProfileID: String(3_000_000_000_000 + UInt64(i) * 7919 + seed % 1000))
        }
        var index: [String: [String: Int]] = [:]
        for seller in self.sellers {
            var byASIN: [String: Int] = [:]
            for i in 0..<skus {
                let asin = Self.asin(seed: seed, seller: seller, index: i)
                if byASIN[asin] == nil { byASIN[asin] = i }
            }
            index[seller.sellerID] = byASIN
        }
        self.asinIndex = index
    }

    public func seller(id: String) -> SandboxSeller? { sellers.first { $0.sellerID == id } }

    /// The seller's SKUs and ASINs (what the All Listings report lists).
    public func skus(of seller: SandboxSeller) -> [(sku: String, asin: String)] {
        products(of: seller).map { ($0.sku, $0.asin) }
    }

    func products(of seller: SandboxSeller) -> [SandboxProduct] {
        (0..<skusPerSeller).map { product(of: seller, index: $0) }
    }

    func product(of seller: SandboxSeller, index: Int) -> SandboxProduct {
        SandboxProduct(sku: String(format: "OPT-%04d-%@", index, String(seller.sellerID.suffix(4))),
                       asin: Self.asin(seed: seed, seller: seller, index: index), index: index)
    }

    static func asin(seed: UInt64, seller: SandboxSeller, index: Int) -> String {
        var rng = SplitMix64("asin", String(seed), seller.sellerID, String(index))
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return "B0" + String((0..<8).map { _ in rng.pick(alphabet) })
    }

    func product(of seller: SandboxSeller, sku: String) -> SandboxProduct? {
        guard sku.hasPrefix("OPT-"), let index = Int(sku.dropFirst(4).prefix(4)), index < skusPerSeller else { return nil }
        let p = product(of: seller, index: index)
        return p.sku == sku ? p : nil
    }

    func product(of seller: SandboxSeller, asin: String) -> SandboxProduct? {
        asinIndex[seller.sellerID]?[asin].map { product(of: seller, index: $0) }
    }

    // MARK: Listing content

    static let nouns = ["Water Bottle", "Yoga Mat", "Phone Stand", "Desk Lamp", "Coffee Grinder", "Backpack", "Cutting Board", "Pillow",
                        "Dog Leash", "Travel Mug", "Bike Light", "Storage Bin", "Garden Hose", "Kitchen Scale", "Hair Dryer"]
    static let adjectives = ["Stainless Steel", "Ergonomic", "Portable", "Eco-Friendly", "Premium", "Heavy Duty", "Compact", "Adjustable"]
    static let features = ["leak-proof lid", "non-slip grip", "BPA free", "dishwasher safe", "lifetime warranty", "lightweight design",
                           "fast charging", "easy to clean", "gift ready packaging", "travel friendly"]

    struct Listing {
        var title: String
        var bullets: [String]
        var description: String
        var genericKeyword: String
        var brand: String?
        var productType: String
        var status: [String]
        var issues: [(code: String, severity: String, message: String)]
        var price: Double
        var quantity: Int
        var fulfillment: String
    }

    /// Listing content; some SKUs deliberately break Amazon's content rules and some change between days.
    func listing(_ seller: SandboxSeller, _ p: SandboxProduct, day: Day) -> Listing {
        var rng = SplitMix64("listing", String(seed), seller.sellerID, p.sku)
        let noun = rng.pick(Self.nouns)
        let adjective = rng.pick(Self.adjectives)
        let brand = "Brand\(seller.sellerID.suffix(3))"
        var title = "\(brand) \(adjective) \(noun), \(rng.pick(Self.features).capitalized), \(rng.int(1...4)) Pack"
        if p.index % 7 == 0 {  // over-long title (230 characters)
            title = String((title + " - " + Self.features.joined(separator: ", ") + " for home office travel gym and outdoor use").prefix(230))
            while title.count < 230 { title += " extra" }
            title = String(title.prefix(230))
        }
        var daily = SplitMix64("daily", String(seed), seller.sellerID, p.sku, day.rawValue)
        if p.index % 13 == 5, daily.unit() < 0.5 { title += " (New Version)" }  // content change between days
        var bullets = (0..<5).map { i in "\(Self.features[(p.index + i) % Self.features.count].capitalized): \(adjective.lowercased()) \(noun.lowercased()) built for everyday use." }
        if p.index % 6 == 1 { bullets = Array(bullets.prefix(2)) }  // too few bullets
        if p.index % 17 == 2 { bullets[0] = String(repeating: "Very long bullet text that keeps going. ", count: 15) }  // > 500 chars
        var keywords = "\(noun.lowercased()) \(adjective.lowercased()) gift home kitchen office outdoor travel"
        if p.index % 9 == 0 {  // backend keywords over 249 bytes (260 bytes)
            keywords = String(repeating: "keyword ", count: 40)
            keywords = String(keywords.prefix(260))
        }
        let statuses: [[String]] = [["BUYABLE", "DISCOVERABLE"], ["BUYABLE", "DISCOVERABLE"], ["DISCOVERABLE"], []]
        let status = p.index % 19 == 4 ? statuses[3] : (p.index % 8 == 3 ? statuses[2] : statuses[0])
        var issues: [(String, String, String)] = []
        if p.index % 10 == 7 { issues.append(("90220", "ERROR", "'size' is required but not supplied.")) }
        if p.index % 12 == 3 { issues.append(("18027", "WARNING", "We believe the main image has text, logo, graphic, or watermark that is not permitted.")) }
        let base = 12 + Double(rng.int(0...8800)) / 100
        let price = (base * (1 + (daily.unit() - 0.5) * 0.06) * 100).rounded() / 100
        return Listing(title: title, bullets: bullets, description: "The \(adjective.lowercased()) \(noun.lowercased()) by \(brand). " + bullets.joined(separator: " "),
                       genericKeyword: keywords, brand: p.index % 11 == 3 ? nil : brand, productType: "HOME",
                       status: status, issues: issues, price: price, quantity: rng.int(0...400),
                       fulfillment: p.index % 3 == 0 ? "DEFAULT" : "AMAZON_NA")
    }

    // MARK: Offers

    struct Offer {
        var sellerID: String
        var price: Double
        var shipping: Double
        var fba: Bool
        var buyBox: Bool
        var mine: Bool
    }

    /// Own and competing offers; the Buy Box goes to the lowest landed price, so some SKUs win and some lose.
    func offers(_ seller: SandboxSeller, _ p: SandboxProduct, day: Day) -> [Offer] {
        let own = listing(seller, p, day: day)
        var rng = SplitMix64("offers", String(seed), seller.sellerID, p.sku, day.rawValue)
        var offers = [Offer(sellerID: seller.sellerID, price: own.price, shipping: 0, fba: own.fulfillment != "DEFAULT", buyBox: false, mine: true)]
        let competitors = p.index % 5 == 4 ? 0 : rng.int(1...4)
        for c in 0..<competitors {
            let delta = (rng.unit() - 0.45) * 0.2
            let id = "A2COMP\(String(format: "%03d", (p.index * 7 + c) % 997))X\(seller.index)"
            offers.append(Offer(sellerID: id, price: ((own.price * (1 + delta)) * 100).rounded() / 100, shipping: rng.unit() < 0.3 ? 4.99 : 0,
                                fba: rng.unit() < 0.6, buyBox: false, mine: false))
        }
        if let winner = offers.indices.min(by: { offers[$0].price + offers[$0].shipping < offers[$1].price + offers[$1].shipping }) {
            offers[winner].buyBox = true
        }
        return offers
    }

    // MARK: Sales and traffic

    struct Traffic { var sessions: Int; var pageViews: Int; var buyBox: Double; var unitSession: Double; var units: Int; var sales: Double }

    func traffic(_ seller: SandboxSeller, _ p: SandboxProduct, day: Day) -> Traffic {
        var rng = SplitMix64("traffic", String(seed), seller.sellerID, p.sku, day.rawValue)
        let sessions = rng.int(5...400)
        let won = offers(seller, p, day: day).first { $0.mine }?.buyBox == true
        let buyBox = won ? 80 + rng.unit() * 20 : rng.unit() * 30
        let conversion = rng.unit() * 0.15
        let units = Int(Double(sessions) * conversion)
        let price = listing(seller, p, day: day).price
        return Traffic(sessions: sessions, pageViews: sessions + rng.int(0...sessions), buyBox: (buyBox * 100).rounded() / 100,
                       unitSession: ((Double(units) / Double(sessions)) * 10000).rounded() / 100, units: units,
                       sales: (Double(units) * price * 100).rounded() / 100)
    }

    // MARK: Search Query Performance

    struct QueryRow {
        var query: String
        var score: Int
        var volume: Int
        var totalImpressions: Int, asinImpressions: Int
        var totalClicks: Int, asinClicks: Int
        var totalCartAdds: Int, asinCartAdds: Int
        var totalPurchases: Int, asinPurchases: Int
    }

    /// Five queries per ASIN: some convert well despite a small impression share (under-exposed), some get
    /// impressions and clicks but few purchases (leaking).
    func searchQueries(_ seller: SandboxSeller, _ p: SandboxProduct, weekStart: Day) -> [QueryRow] {
        let l = listing(seller, p, day: weekStart)
        let noun = Self.nouns.first { l.title.contains($0) }?.lowercased() ?? "product"
        let queries = [noun, "best \(noun)", "\(noun) for gift", "cheap \(noun)", "\(noun) \(seller.sellerID.suffix(2).lowercased()) set"]
        var rng = SplitMix64("sqp", String(seed), seller.sellerID, p.asin, weekStart.rawValue)
        return queries.enumerated().map { i, q in
            let volume = rng.int(500...20000)
            let totalImpressions = volume * rng.int(8...15)
            let totalClicks = totalImpressions / rng.int(15...40)
            let totalCart = totalClicks / rng.int(3...6)
            let totalPurchases = max(1, totalCart / rng.int(2...3))
            let kind = (p.index + i) % 3
            let impShare = kind == 0 ? 0.02 + rng.unit() * 0.03 : 0.15 + rng.unit() * 0.2
            let asinImpressions = Int(Double(totalImpressions) * impShare)
            let asinClicks = Int(Double(totalClicks) * (kind == 0 ? impShare * 2.5 : impShare * (kind == 1 ? 1.1 : 0.9)))
            let asinCart = Int(Double(asinClicks) * (kind == 2 ? 0.05 : 0.3))
            let asinPurchases = min(totalPurchases, Int(Double(asinCart) * (kind == 2 ? 0.1 : 0.6)))
            return QueryRow(query: q, score: i + 1, volume: volume, totalImpressions: totalImpressions, asinImpressions: asinImpressions,
                            totalClicks: totalClicks, asinClicks: asinClicks, totalCartAdds: totalCart, asinCartAdds: asinCart,
                            totalPurchases: totalPurchases, asinPurchases: asinPurchases)
        }
    }

    // MARK: Advertising

    struct Campaign { var id: String; var name: String; var targeting: String; var budget: Double; var state: String }
    struct Group { var id: String; var campaignID: String; var name: String; var defaultBid: Double }
    struct Keyword { var id: String; var groupID: String; var campaignID: String; var text: String; var matchType: String; var bid: Double; var profile: Int }
    struct Target { var id: String; var groupID: String; var campaignID: String; var type: String; var bid: Double?; var profile: Int }

    func campaigns(_ seller: SandboxSeller) -> [Campaign] {
        let count = max(2, min(20, skusPerSeller / 10))
        return (0..<count).map { c in
            Campaign(id: String(100_000_000_000 + seller.index * 1000 + c), name: "\(c % 4 == 0 ? "Auto" : "Manual") campaign \(c + 1)",
                     targeting: c % 4 == 0 ? "AUTO" : "MANUAL", budget: Double(10 + c * 5), state: c % 9 == 8 ? "PAUSED" : "ENABLED")
        }
    }

    func adGroups(_ seller: SandboxSeller) -> [Group] {
        campaigns(seller).enumerated().map { i, c in
            Group(id: String(200_000_000_000 + seller.index * 1000 + i), campaignID: c.id, name: "Ad group \(i + 1)", defaultBid: 0.75)
        }
    }

    func keywords(_ seller: SandboxSeller) -> [Keyword] {
        var out: [Keyword] = []
        let campaigns = campaigns(seller)
        for (i, group) in adGroups(seller).enumerated() where campaigns[i].targeting == "MANUAL" {
            let p = product(of: seller, index: i % max(1, skusPerSeller))
            let noun = Self.nouns.first { listing(seller, p, day: Day(rawValue: "2025-01-05")!).title.contains($0) }?.lowercased() ?? "product"
            for (k, text) in ["\(noun)", "best \(noun)", "\(noun) gift", "cheap \(noun)", "\(noun) deal"].enumerated() {
                out.append(Keyword(id: String(300_000_000_000 + seller.index * 100_000 + i * 10 + k), groupID: group.id, campaignID: group.campaignID,
                                   text: text, matchType: ["EXACT", "PHRASE", "BROAD"][k % 3], bid: 0.5 + Double(k) * 0.25, profile: k % 3))
            }
        }
        return out
    }

    func targets(_ seller: SandboxSeller) -> [Target] {
        var out: [Target] = []
        let campaigns = campaigns(seller)
        for (i, group) in adGroups(seller).enumerated() where campaigns[i].targeting == "AUTO" {
            for (k, type) in ["QUERY_HIGH_REL_MATCHES", "QUERY_BROAD_REL_MATCHES", "ASIN_SUBSTITUTE_RELATED"].enumerated() {
                out.append(Target(id: String(400_000_000_000 + seller.index * 100_000 + i * 10 + k), groupID: group.id, campaignID: group.campaignID,
                                  type: type, bid: k == 2 ? nil : 0.6, profile: k % 3))
            }
        }
        return out
    }

    struct Metrics { var impressions: Int; var clicks: Int; var cost: Double; var purchases: Int; var sales: Double }

    /// Profile 0 converts, profile 1 wastes spend (many clicks, no sales), profile 2 has too few clicks to judge.
    func metrics(profile: Int, id: String, day: Day) -> Metrics {
        var rng = SplitMix64("adm", String(seed), id, day.rawValue)
        switch profile {
        case 0:
            let clicks = rng.int(8...25)
            let purchases = max(1, clicks / rng.int(4...7))
            return Metrics(impressions: clicks * rng.int(40...90), clicks: clicks, cost: Double(clicks) * 0.62, purchases: purchases,
                           sales: Double(purchases) * 29.99)
        case 1:
            let clicks = rng.int(15...40)
            return Metrics(impressions: clicks * rng.int(30...60), clicks: clicks, cost: Double(clicks) * 0.95, purchases: 0, sales: 0)
        default:
            let clicks = rng.int(0...1)
            return Metrics(impressions: rng.int(20...200), clicks: clicks, cost: Double(clicks) * 0.4, purchases: 0, sales: 0)
        }
    }
}
