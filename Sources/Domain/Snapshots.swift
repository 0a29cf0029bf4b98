import Foundation

/// A listing issue Amazon reports for a SKU (Listings Items `issues`).
public struct ListingIssue: Codable, Hashable, Sendable {
    public var code: String
    public var severity: String
    public var message: String

    public init(code: String, severity: String, message: String) {
        self.code = code
        self.severity = severity
        self.message = message
    }
}

/// The seller's listing content for one SKU on one day (catalog + Listings Items).
public struct ListingSnapshot: Codable, Hashable, Sendable {
    public var day: Day
    public var marketplaceID: String
    public var sku: String
    public var asin: String
    public var title: String
    public var bullets: [String]
    public var description: String
    /// Backend search terms (`generic_keyword`), limited by Amazon to 249 bytes.
    public var backendKeywords: String
    public var brand: String
    public var productType: String
    /// Listing status values such as `BUYABLE`, `DISCOVERABLE`; empty means suppressed.
    public var status: [String]
    public var issues: [ListingIssue]
    /// Own listing price from the All Listings report (currency of the marketplace).
    public var price: Double?
    public var quantity: Int?
    public var fulfillmentChannel: String

    public init(day: Day, marketplaceID: String, sku: String, asin: String, title: String, bullets: [String],
                description: String, backendKeywords: String, brand: String, productType: String = "",
                status: [String], issues: [ListingIssue] = [], price: Double? = nil, quantity: Int? = nil,
                fulfillmentChannel: String = "DEFAULT") {
        self.day = day
        self.marketplaceID = marketplaceID
        self.sku = sku
        self.asin = asin
        self.title = title
        self.bullets = bullets
        self.description = description
        self.backendKeywords = backendKeywords
        self.brand = brand
        self.productType = productType
        self.status = status
        self.issues = issues
        self.price = price
        self.quantity = quantity
        self.fulfillmentChannel = fulfillmentChannel
    }
}

/// One competing offer on an ASIN (Product Pricing `Offers`); sellers are businesses, not buyers.
public struct CompetitorOffer: Codable, Hashable, Sendable {
    public var sellerID: String
    public var listingPrice: Double
    public var shipping: Double
    public var isFulfilledByAmazon: Bool
    public var isBuyBoxWinner: Bool
    public var isFeaturedMerchant: Bool
    public var condition: String

    /// Price the buyer pays: item plus shipping.
    public var landedPrice: Double { listingPrice + shipping }

    public init(sellerID: String, listingPrice: Double, shipping: Double, isFulfilledByAmazon: Bool,
                isBuyBoxWinner: Bool, isFeaturedMerchant: Bool = false, condition: String = "New") {
        self.sellerID = sellerID
        self.listingPrice = listingPrice
        self.shipping = shipping
        self.isFulfilledByAmazon = isFulfilledByAmazon
        self.isBuyBoxWinner = isBuyBoxWinner
        self.isFeaturedMerchant = isFeaturedMerchant
        self.condition = condition
    }
}

/// Pricing and Buy Box state of one ASIN on one day.
public struct OfferSnapshot: Codable, Hashable, Sendable {
    public var day: Day
    public var marketplaceID: String
    public var asin: String
    public var sku: String
    public var currency: String
    /// The seller's own offer, when it has one on the ASIN.
    public var ownPrice: Double?
    public var ownShipping: Double
    public var ownIsFBA: Bool
    /// True when the seller's own offer holds the Buy Box.
    public var buyBoxWon: Bool
    /// Landed price of the Buy Box winner; nil when no offer holds it (suppressed Buy Box).
    public var buyBoxPrice: Double?
    public var buyBoxSellerID: String?
    /// Competing offers (the seller's own offer excluded).
    public var competitors: [CompetitorOffer]
    /// Featured offer expected price (FOEP) for the seller's SKU, when Amazon computed one.
    public var featuredOfferExpectedPrice: Double?
    /// Competitive (Buy Box) price from getCompetitivePricing.
    public var competitivePrice: Double?
    public var totalOfferCount: Int

    /// The seller's landed price (item plus shipping).
    public var ownLandedPrice: Double? { ownPrice.map { $0 + ownShipping } }

    public init(day: Day, marketplaceID: String, asin: String, sku: String, currency: String = "USD",
                ownPrice: Double?, ownShipping: Double = 0, ownIsFBA: Bool, buyBoxWon: Bool,
                buyBoxPrice: Double?, buyBoxSellerID: String?, competitors: [CompetitorOffer],
                featuredOfferExpectedPrice: Double? = nil, competitivePrice: Double? = nil, totalOfferCount: Int) {
        self.day = day
        self.marketplaceID = marketplaceID
        self.asin = asin
        self.sku = sku
        self.currency = currency
        self.ownPrice = ownPrice
        self.ownShipping = ownShipping
        self.ownIsFBA = ownIsFBA
        self.buyBoxWon = buyBoxWon
        self.buyBoxPrice = buyBoxPrice
        self.buyBoxSellerID = buyBoxSellerID
        self.competitors = competitors
        self.featuredOfferExpectedPrice = featuredOfferExpectedPrice
        self.competitivePrice = competitivePrice
        self.totalOfferCount = totalOfferCount
    }
}

/// Traffic and conversion for one ASIN and day (GET_SALES_AND_TRAFFIC_REPORT, aggregates only).
public struct SalesTrafficRow: Codable, Hashable, Sendable {
    public var day: Day
    public var marketplaceID: String
    public var asin: String
    public var sessions: Int
    public var pageViews: Int
    /// Featured offer (Buy Box) percentage, 0–100.
    public var buyBoxPercentage: Double
    /// Units per session (conversion), 0–100.
    public var unitSessionPercentage: Double
    public var unitsOrdered: Int
    public var orderedProductSales: Double

    public init(day: Day, marketplaceID: String, asin: String, sessions: Int, pageViews: Int, buyBoxPercentage: Double,
                unitSessionPercentage: Double, unitsOrdered: Int, orderedProductSales: Double) {
        self.day = day
        self.marketplaceID = marketplaceID
        self.asin = asin
        self.sessions = sessions
        self.pageViews = pageViews
        self.buyBoxPercentage = buyBoxPercentage
        self.unitSessionPercentage = unitSessionPercentage
        self.unitsOrdered = unitsOrdered
        self.orderedProductSales = orderedProductSales
    }
}

/// One Search Query Performance row: a query's funnel for one ASIN over one week.
///
/// Shares are fractions 0–1 as in Amazon's schema (`asinImpressionShare` etc.).
public struct SearchQueryRow: Codable, Hashable, Sendable {
    /// Sunday that starts the reporting week; also the row's capture day.
    public var weekStart: Day
    public var weekEnd: Day
    public var marketplaceID: String
    public var asin: String
    public var query: String
    public var queryScore: Int
    public var queryVolume: Int
    public var totalImpressions: Int
    public var asinImpressions: Int
    public var impressionShare: Double
    public var totalClicks: Int
    public var asinClicks: Int
    public var clickShare: Double
    public var totalCartAdds: Int
    public var asinCartAdds: Int
    public var cartAddShare: Double
    public var totalPurchases: Int
    public var asinPurchases: Int
    public var purchaseShare: Double

    public init(weekStart: Day, weekEnd: Day, marketplaceID: String, asin: String, query: String, queryScore: Int,
                queryVolume: Int, totalImpressions: Int, asinImpressions: Int, impressionShare: Double,
                totalClicks: Int, asinClicks: Int, clickShare: Double, totalCartAdds: Int, asinCartAdds: Int,
                cartAddShare: Double, totalPurchases: Int, asinPurchases: Int, purchaseShare: Double) {
        self.weekStart = weekStart
        self.weekEnd = weekEnd
        self.marketplaceID = marketplaceID
        self.asin = asin
        self.query = query
        self.queryScore = queryScore
        self.queryVolume = queryVolume
        self.totalImpressions = totalImpressions
        self.asinImpressions = asinImpressions
        self.impressionShare = impressionShare
        self.totalClicks = totalClicks
        self.asinClicks = asinClicks
        self.clickShare = clickShare
        self.totalCartAdds = totalCartAdds
        self.asinCartAdds = asinCartAdds
        self.cartAddShare = cartAddShare
        self.totalPurchases = totalPurchases
        self.asinPurchases = asinPurchases
        self.purchaseShare = purchaseShare
    }
}
