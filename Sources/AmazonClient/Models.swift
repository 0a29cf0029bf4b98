import Foundation

// Decodable mirrors of Amazon's model definitions, limited to the fields the fetcher reads.
// Fields the models mark required are non-optional; everything else is optional so answers that
// omit optional data (as Amazon's own examples do) still decode. Unknown fields are ignored.

/// Any JSON value, for free-form objects such as Listings `attributes` (`additionalProperties: true`).
enum JSONValue: Decodable, Sendable, Hashable {
    case string(String), number(Double), bool(Bool), object([String: JSONValue]), array([JSONValue]), null

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    subscript(key: String) -> JSONValue? {
        if case let .object(o) = self { return o[key] }
        return nil
    }

    var stringValue: String? {
        switch self {
        case let .string(s): s
        case let .number(n): n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
        default: nil
        }
    }
}

/// A number Amazon sends either as a JSON number or as a decimal string (Listings `Decimal`).
struct FlexibleDouble: Decodable, Sendable, Hashable {
    var value: Double

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let d = try? c.decode(Double.self) { value = d; return }
        let s = try c.decode(String.self)
        guard let d = Double(s.trimmingCharacters(in: .whitespaces)) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "'\(s.prefix(20))' is not a decimal number")
        }
        value = d
    }
}

/// An Ads id: a JSON number in reports, a string in the SP v3 entity APIs (ADS.md §4); kept as text.
struct FlexibleID: Decodable, Sendable, Hashable {
    var value: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { value = s; return }
        if let i = try? c.decode(Int64.self) { value = String(i); return }
        let d = try c.decode(Double.self)
        guard d == d.rounded(), abs(d) < 9.0e15 else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "id is not an integer")
        }
        value = String(Int64(d))
    }
}

// MARK: - Sellers v1

struct MarketplaceParticipationsResponse: Decodable {
    var payload: [ParticipationEntry]?
    var errors: [APIError]?
}

struct ParticipationEntry: Decodable {
    struct Market: Decodable {
        var id: String
        var name: String
        var countryCode: String
        var defaultCurrencyCode: String
        var defaultLanguageCode: String
        var domainName: String
    }
    struct Participation: Decodable {
        var isParticipating: Bool
        var hasSuspendedListings: Bool
    }
    var marketplace: Market
    var participation: Participation
    var storeName: String?
}

struct APIError: Decodable, Sendable {
    var code: String
    var message: String?
    var details: String?
}

// MARK: - Reports 2021-06-30

struct CreateReportResponse: Decodable { var reportId: String }

struct ReportStatus: Decodable {
    var reportId: String
    var reportType: String
    var processingStatus: String
    var createdTime: String
    var reportDocumentId: String?
}

struct ReportDocumentInfo: Decodable {
    var reportDocumentId: String
    var url: String
    var compressionAlgorithm: String?
}

// MARK: - Listings Items 2021-08-01

struct ListingsItem: Decodable {
    struct Summary: Decodable {
        var marketplaceId: String
        var asin: String?
        var productType: String
        var conditionType: String?
        var status: [String]
        var itemName: String?
        var createdDate: String
        var lastUpdatedDate: String
    }
    struct Issue: Decodable {
        var code: String
        var message: String
        var severity: String
    }
    struct Offer: Decodable {
        struct Money: Decodable { var currencyCode: String; var amount: FlexibleDouble }
        var marketplaceId: String
        var offerType: String
        var price: Money
    }
    var sku: String
    var summaries: [Summary]?
    var attributes: [String: JSONValue]?
    var issues: [Issue]?
    var offers: [Offer]?
}

// MARK: - Catalog Items 2022-04-01

struct CatalogItem: Decodable {
    struct Summary: Decodable {
        var marketplaceId: String
        var brand: String?
        var itemName: String?
    }
    var asin: String
    var summaries: [Summary]?
    var attributes: [String: JSONValue]?
}

// MARK: - Product Pricing v0

struct MoneyV0: Decodable { var CurrencyCode: String?; var Amount: FlexibleDouble? }

struct ItemOffersBatchResponse: Decodable {
    struct Item: Decodable {
        struct Status: Decodable { var statusCode: Int?; var reasonPhrase: String? }
        struct Request: Decodable { var MarketplaceId: String?; var Asin: String? }
        var status: Status?
        var body: GetOffersResponse
        var request: Request?
    }
    var responses: [Item]?
}

struct GetOffersResponse: Decodable {
    var payload: GetOffersResult?
    var errors: [APIError]?
}

struct GetOffersResult: Decodable {
    struct Summary: Decodable {
        struct BuyBoxPrice: Decodable {
            var condition: String
            var LandedPrice: MoneyV0
            var ListingPrice: MoneyV0
            var Shipping: MoneyV0
            var sellerId: String?
        }
        var TotalOfferCount: Int
        var BuyBoxPrices: [BuyBoxPrice]?
    }
    struct Offer: Decodable {
        var MyOffer: Bool?
        var SubCondition: String
        var SellerId: String?
        var ListingPrice: MoneyV0
        var Shipping: MoneyV0
        var IsFulfilledByAmazon: Bool
        var IsBuyBoxWinner: Bool?
        var IsFeaturedMerchant: Bool?
    }
    var marketplaceId: String
    var ASIN: String?
    var status: String
    var ItemCondition: String
    var Summary: Summary
    var Offers: [Offer]
}

struct CompetitivePricingResponse: Decodable {
    struct Price: Decodable {
        struct Product: Decodable {
            struct Pricing: Decodable {
                struct CompetitivePrice: Decodable {
                    struct PriceType: Decodable { var LandedPrice: MoneyV0?; var ListingPrice: MoneyV0; var Shipping: MoneyV0? }
                    var CompetitivePriceId: String
                    var Price: PriceType
                    var condition: String?
                    var belongsToRequester: Bool?
                }
                var CompetitivePrices: [CompetitivePrice]
            }
            var CompetitivePricing: Pricing?
        }
        var status: String
        var ASIN: String?
        var SellerSKU: String?
        var Product: Product?
    }
    var payload: [Price]?
    var errors: [APIError]?
}

// MARK: - Product Pricing 2022-05-01

struct FOEPBatchResponse: Decodable {
    struct Item: Decodable {
        struct Status: Decodable { var statusCode: Int?; var reasonPhrase: String? }
        struct Request: Decodable { var marketplaceId: String; var sku: String }
        struct Body: Decodable {
            struct Result: Decodable {
                struct Expected: Decodable {
                    struct Money: Decodable { var amount: Double; var currencyCode: String }
                    var listingPrice: Money
                }
                var resultStatus: String
                var featuredOfferExpectedPrice: Expected?
            }
            var featuredOfferExpectedPriceResults: [Result]?
            var errors: [APIError]?
        }
        var status: Status?
        var request: Request
        var body: Body?
    }
    var responses: [Item]
}

// MARK: - Brand Analytics and Sales & Traffic documents (schemas/reports)

struct SQPDocument: Decodable {
    struct Row: Decodable {
        struct Money: Decodable { var amount: Double; var currencyCode: String }
        struct Query: Decodable { var searchQuery: String; var searchQueryScore: Int; var searchQueryVolume: Int }
        struct Impressions: Decodable { var totalQueryImpressionCount: Int; var asinImpressionCount: Int; var asinImpressionShare: Double }
        struct Clicks: Decodable { var totalClickCount: Int; var asinClickCount: Int; var asinClickShare: Double }
        struct CartAdds: Decodable { var totalCartAddCount: Int; var asinCartAddCount: Int; var asinCartAddShare: Double }
        struct Purchases: Decodable { var totalPurchaseCount: Int; var asinPurchaseCount: Int; var asinPurchaseShare: Double }
        var startDate: String
        var endDate: String
        var asin: String
        var searchQueryData: Query
        var impressionData: Impressions
        var clickData: Clicks
        var cartAddData: CartAdds
        var purchaseData: Purchases
    }
    var dataByAsin: [Row]
}

struct SalesTrafficDocument: Decodable {
    struct Spec: Decodable { var dataStartTime: String; var dataEndTime: String; var marketplaceIds: [String]? }
    struct Row: Decodable {
        struct Sales: Decodable {
            struct Money: Decodable { var amount: Double; var currencyCode: String }
            var unitsOrdered: Int
            var orderedProductSales: Money
        }
        struct Traffic: Decodable {
            var sessions: Int
            var pageViews: Int
            var buyBoxPercentage: Double
            var unitSessionPercentage: Double
        }
        var parentAsin: String
        var childAsin: String?
        var sku: String?
        var salesByAsin: Sales
        var trafficByAsin: Traffic
    }
    var reportSpecification: Spec
    var salesAndTrafficByAsin: [Row]
}

// MARK: - Ads API

struct AdsProfileWire: Decodable {
    struct AccountInfo: Decodable {
        var marketplaceStringId: String
        var id: String
        var type: String
        var name: String?
    }
    var profileId: FlexibleID
    var countryCode: String
    var currencyCode: String
    var timezone: String?
    var accountInfo: AccountInfo
}

struct AdsCampaignList: Decodable {
    struct Campaign: Decodable {
        struct Budget: Decodable { var budget: Double; var budgetType: String }
        var campaignId: FlexibleID
        var name: String
        var state: String
        var targetingType: String
        var budget: Budget
    }
    var campaigns: [Campaign]
    var nextToken: String?
}

struct AdsAdGroupList: Decodable {
    struct Group: Decodable {
        var adGroupId: FlexibleID
        var campaignId: FlexibleID
        var name: String
        var state: String
        var defaultBid: Double
    }
    var adGroups: [Group]
    var nextToken: String?
}

struct AdsKeywordList: Decodable {
    struct Keyword: Decodable {
        var keywordId: FlexibleID
        var adGroupId: FlexibleID
        var campaignId: FlexibleID
        var keywordText: String
        var matchType: String
        var state: String
        var bid: Double?
    }
    var keywords: [Keyword]
    var nextToken: String?
}

struct AdsTargetList: Decodable {
    struct Target: Decodable {
        struct Expression: Decodable { var type: String; var value: String? }
        var targetId: FlexibleID
        var adGroupId: FlexibleID
        var campaignId: FlexibleID
        var expression: [Expression]?
        var resolvedExpression: [Expression]?
        var expressionType: String
        var state: String
        var bid: Double?
    }
    var targetingClauses: [Target]
    var nextToken: String?
}

struct AdsReport: Decodable {
    var reportId: String
    var status: String
    var url: String?
    var failureReason: String?
}

struct AdsMetricWire: Decodable {
    var date: String?
    var campaignId: FlexibleID?
    var adGroupId: FlexibleID?
    var keywordId: FlexibleID?
    var targeting: String?
    var keyword: String?
    var matchType: String?
    var keywordType: String?
    var searchTerm: String?
    var impressions: Int?
    var clicks: Int?
    var cost: FlexibleDouble?
    var purchases7d: Int?
    var sales7d: FlexibleDouble?
}
