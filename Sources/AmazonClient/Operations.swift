/// An SP-API or Ads operation with Amazon's published default usage plan (README §3/§4).
///
/// Rate is tokens per second, burst the bucket size; `x-amzn-RateLimit-Limit` may raise the rate per seller.
public struct AmazonOperation: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let rate: Double
    public let burst: Int
    /// Whether the call goes to the Ads API (Bearer auth) rather than SP-API.
    public let isAds: Bool

    public init(name: String, rate: Double, burst: Int, isAds: Bool = false) {
        self.name = name
        self.rate = rate
        self.burst = burst
        self.isAds = isAds
    }

    public var description: String { name }

    public static let getCatalogItem = AmazonOperation(name: "getCatalogItem", rate: 2, burst: 2)
    public static let getListingsItem = AmazonOperation(name: "getListingsItem", rate: 5, burst: 10)
    public static let getItemOffersBatch = AmazonOperation(name: "getItemOffersBatch", rate: 0.1, burst: 1)
    public static let getCompetitivePricing = AmazonOperation(name: "getCompetitivePricing", rate: 0.5, burst: 1)
    public static let getFeaturedOfferExpectedPriceBatch = AmazonOperation(name: "getFeaturedOfferExpectedPriceBatch", rate: 0.033, burst: 1)
    public static let createReport = AmazonOperation(name: "createReport", rate: 0.0167, burst: 15)
    public static let getReport = AmazonOperation(name: "getReport", rate: 2, burst: 15)
    public static let getReportDocument = AmazonOperation(name: "getReportDocument", rate: 0.0167, burst: 15)
    public static let getMarketplaceParticipations = AmazonOperation(name: "getMarketplaceParticipations", rate: 0.016, burst: 15)

    /// Ads API limits are dynamic and unpublished (ADS.md §6); these conservative values keep a seller's
    /// nightly run well below them, and 429 + `Retry-After` handles the rest.
    public static let adsProfiles = AmazonOperation(name: "listProfiles", rate: 1, burst: 5, isAds: true)
    public static let adsListCampaigns = AmazonOperation(name: "listSponsoredProductsCampaigns", rate: 1, burst: 5, isAds: true)
    public static let adsListAdGroups = AmazonOperation(name: "listSponsoredProductsAdGroups", rate: 1, burst: 5, isAds: true)
    public static let adsListKeywords = AmazonOperation(name: "listSponsoredProductsKeywords", rate: 1, burst: 5, isAds: true)
    public static let adsListTargets = AmazonOperation(name: "listSponsoredProductsTargetingClauses", rate: 1, burst: 5, isAds: true)
    public static let adsCreateReport = AmazonOperation(name: "createAsyncReport", rate: 1, burst: 5, isAds: true)
    public static let adsGetReport = AmazonOperation(name: "getAsyncReport", rate: 1, burst: 5, isAds: true)

    /// Every SP-API operation the client performs (no Orders, Finances or Tokens operations exist here).
    public static let spapi: [AmazonOperation] = [
        .getCatalogItem, .getListingsItem, .getItemOffersBatch, .getCompetitivePricing, .getFeaturedOfferExpectedPriceBatch,
        .createReport, .getReport, .getReportDocument, .getMarketplaceParticipations,
    ]
}
