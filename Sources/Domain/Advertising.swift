/// A Sponsored Products campaign as the Ads API lists it.
public struct AdCampaign: Codable, Hashable, Sendable {
    public var day: Day
    public var campaignID: String
    public var name: String
    public var state: String
    /// `MANUAL` or `AUTO`.
    public var targetingType: String
    public var dailyBudget: Double

    public init(day: Day, campaignID: String, name: String, state: String, targetingType: String, dailyBudget: Double) {
        self.day = day
        self.campaignID = campaignID
        self.name = name
        self.state = state
        self.targetingType = targetingType
        self.dailyBudget = dailyBudget
    }
}

/// A Sponsored Products ad group with its default bid.
public struct AdGroup: Codable, Hashable, Sendable {
    public var day: Day
    public var adGroupID: String
    public var campaignID: String
    public var name: String
    public var state: String
    public var defaultBid: Double

    public init(day: Day, adGroupID: String, campaignID: String, name: String, state: String, defaultBid: Double) {
        self.day = day
        self.adGroupID = adGroupID
        self.campaignID = campaignID
        self.name = name
        self.state = state
        self.defaultBid = defaultBid
    }
}

/// A keyword or product target with its current bid.
public struct AdTarget: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Sendable { case keyword, target, negativeKeyword }

    public var day: Day
    public var targetID: String
    public var adGroupID: String
    public var campaignID: String
    public var kind: Kind
    /// Keyword text, or the product targeting expression.
    public var text: String
    /// `EXACT`, `PHRASE`, `BROAD`, or the targeting expression type.
    public var matchType: String
    public var state: String
    public var bid: Double?

    public init(day: Day, targetID: String, adGroupID: String, campaignID: String, kind: Kind, text: String,
                matchType: String, state: String, bid: Double?) {
        self.day = day
        self.targetID = targetID
        self.adGroupID = adGroupID
        self.campaignID = campaignID
        self.kind = kind
        self.text = text
        self.matchType = matchType
        self.state = state
        self.bid = bid
    }
}

/// One day of performance for a keyword/target (spTargeting) or, with an empty target id, a campaign (spCampaigns).
public struct AdMetricRow: Codable, Hashable, Sendable {
    public var day: Day
    public var campaignID: String
    public var adGroupID: String
    public var targetID: String
    public var impressions: Int
    public var clicks: Int
    public var cost: Double
    /// Purchases attributed within 7 days (`purchases7d`).
    public var purchases: Int
    /// Sales attributed within 7 days (`sales7d`).
    public var sales: Double

    public init(day: Day, campaignID: String, adGroupID: String, targetID: String, impressions: Int, clicks: Int,
                cost: Double, purchases: Int, sales: Double) {
        self.day = day
        self.campaignID = campaignID
        self.adGroupID = adGroupID
        self.targetID = targetID
        self.impressions = impressions
        self.clicks = clicks
        self.cost = cost
        self.purchases = purchases
        self.sales = sales
    }
}

/// One day of a customer search term matched by a keyword/target (spSearchTerm report).
public struct SearchTermRow: Codable, Hashable, Sendable {
    public var day: Day
    public var campaignID: String
    public var adGroupID: String
    public var targetID: String
    public var searchTerm: String
    public var matchType: String
    public var impressions: Int
    public var clicks: Int
    public var cost: Double
    public var purchases: Int
    public var sales: Double

    public init(day: Day, campaignID: String, adGroupID: String, targetID: String, searchTerm: String,
                matchType: String, impressions: Int, clicks: Int, cost: Double, purchases: Int, sales: Double) {
        self.day = day
        self.campaignID = campaignID
        self.adGroupID = adGroupID
        self.targetID = targetID
        self.searchTerm = searchTerm
        self.matchType = matchType
        self.impressions = impressions
        self.clicks = clicks
        self.cost = cost
        self.purchases = purchases
        self.sales = sales
    }
}
