import Domain

/// Everything the analyzer reads for one seller and one analysis day.
///
/// Arrays may arrive in any order: the analyzer sorts what it emits, so the same rows in another
/// order give the same result.
public struct AnalysisInput: Sendable {
    public var sellerID: SellerID
    public var settings: SellerSettings
    /// The day the analysis is for; ids and unsettled-day cut-offs derive from it, never from the clock.
    public var day: Day
    /// Newest listing snapshot per SKU.
    public var listings: [ListingSnapshot]
    /// The snapshot before the newest one per SKU, for change detection.
    public var previousListings: [ListingSnapshot]
    /// Newest offer snapshot per ASIN/SKU.
    public var offers: [OfferSnapshot]
    /// The previous day's offer snapshot per ASIN/SKU.
    public var previousOffers: [OfferSnapshot]
    /// Up to 90 days of Sales and Traffic rows.
    public var salesTraffic: [SalesTrafficRow]
    /// Search Query Performance rows (weekly).
    public var searchQueries: [SearchQueryRow]
    public var campaigns: [AdCampaign]
    public var adGroups: [AdGroup]
    public var targets: [AdTarget]
    /// Up to 90 days of target-level (and optionally campaign-level, empty target id) ad metrics.
    public var adMetrics: [AdMetricRow]
    /// Up to 90 days of search-term rows.
    public var searchTerms: [SearchTermRow]
    /// Brand names of competitors the seller wants kept out of backend terms, besides its own brands.
    public var competitorBrands: [String]

    public init(sellerID: SellerID, settings: SellerSettings, day: Day, listings: [ListingSnapshot] = [],
                previousListings: [ListingSnapshot] = [], offers: [OfferSnapshot] = [],
                previousOffers: [OfferSnapshot] = [], salesTraffic: [SalesTrafficRow] = [],
                searchQueries: [SearchQueryRow] = [], campaigns: [AdCampaign] = [], adGroups: [AdGroup] = [],
                targets: [AdTarget] = [], adMetrics: [AdMetricRow] = [], searchTerms: [SearchTermRow] = [],
                competitorBrands: [String] = []) {
        self.sellerID = sellerID
        self.settings = settings
        self.day = day
        self.listings = listings
        self.previousListings = previousListings
        self.offers = offers
        self.previousOffers = previousOffers
        self.salesTraffic = salesTraffic
        self.searchQueries = searchQueries
        self.campaigns = campaigns
        self.adGroups = adGroups
        self.targets = targets
        self.adMetrics = adMetrics
        self.searchTerms = searchTerms
        self.competitorBrands = competitorBrands
    }
}

/// One part of a listing's quality score: what it can earn, what it earned, and which rules cost points.
public struct ScoreComponent: Codable, Hashable, Sendable {
    /// `title`, `bullets`, `backend` or `description`.
    public var name: String
    public var weight: Double
    public var points: Double
    /// Rule ids that cost points, in rule order.
    public var failedRules: [String]

    public init(name: String, weight: Double, points: Double, failedRules: [String]) {
        self.name = name
        self.weight = weight
        self.points = points
        self.failedRules = failedRules
    }
}

/// A listing's 0–100 quality score against Amazon's content rules, with its breakdown.
public struct ListingQualityScore: Codable, Hashable, Sendable {
    public var asin: String
    public var sku: String
    public var score: Double
    public var components: [ScoreComponent]

    public init(asin: String, sku: String, score: Double, components: [ScoreComponent]) {
        self.asin = asin
        self.sku = sku
        self.score = score
        self.components = components
    }
}

/// What the analyzer produced for one seller and day.
public struct AnalysisResult: Codable, Hashable, Sendable {
    public var sellerID: SellerID
    public var day: Day
    /// Sorted by category, severity (worst first), ASIN, SKU, rule id, subject.
    public var recommendations: [Recommendation]
    /// Alert candidates for the outbox, sorted by severity, ASIN, SKU, kind.
    public var alerts: [Alert]
    /// One score per listing, sorted by score (worst first), then SKU.
    public var qualityScores: [ListingQualityScore]
    /// Proposed rewrites, sorted by SKU.
    public var rewrites: [ListingRewrite]

    public init(sellerID: SellerID, day: Day, recommendations: [Recommendation], alerts: [Alert],
                qualityScores: [ListingQualityScore], rewrites: [ListingRewrite]) {
        self.sellerID = sellerID
        self.day = day
        self.recommendations = recommendations
        self.alerts = alerts
        self.qualityScores = qualityScores
        self.rewrites = rewrites
    }
}
