/// Every threshold the analyzer uses, in one value, with defaults taken from
/// `shared/notes/amazon-domain.md` (section and reference numbers in brackets).
///
/// One value instead of constants scattered through the rules so a seller-facing explanation can
/// quote the exact number that fired, and tests can move a threshold without touching rule code.
public struct AnalysisConfig: Codable, Hashable, Sendable {
    // MARK: Listing content (§2.1)

    /// Title limit in characters including spaces; some categories are lower (§2.1 [1][6]).
    public var titleMaxCharacters: Int = 200
    /// Characters Amazon bans in titles (§2.1 [1]).
    public var titleBannedCharacters: String = "!$?_{}^¬¦"
    /// The same word may appear at most this often, exempt words aside (§2.1 [2][3], enforced since 2025-01-21 [4]).
    public var titleMaxWordRepeats: Int = 2
    /// Fewest bullets a complete seller listing has: 5 for sellers (§2.1 [9]).
    public var bulletsExpected: Int = 5
    /// Most bullets allowed: 10 for vendors, the upper bound (§2.1 [9]).
    public var bulletsMax: Int = 10
    /// Bullet limit in characters when the product type sets none; sources say 250 to 500 (§2.1 [10][11]).
    public var bulletMaxCharacters: Int = 500
    /// Per product type bullet limits (`maxLength` from the Product Type Definitions schema, §2.1 [19]).
    public var bulletMaxCharactersByProductType: [String: Int] = [:]
    /// Backend search terms limit in UTF-8 bytes: Seller Central keeps the first 249 (§2.1 [16][17]).
    /// All bytes are counted, spaces included: the conservative reading of [15] versus [17].
    public var backendMaxBytes: Int = 249
    /// Description limit in characters (§2.1 [11][13]).
    public var descriptionMaxCharacters: Int = 2_000

    // MARK: Keyword gap and SQP (§2.2)

    /// Fewest ASIN purchases (summed over the window) for a query to count as converting.
    public var keywordGapMinPurchases: Int = 1
    /// Most keyword-gap recommendations per ASIN, best first.
    public var keywordGapMaxPerASIN: Int = 10
    /// Weeks of SQP history aggregated (about one quarter; SQP weeks run Sunday–Saturday, §2.2 [20]).
    public var sqpLookbackWeeks: Int = 13
    /// Queries whose summed search volume is below this are filtered out (§2.2 [25]: filter by minimum volume).
    public var sqpMinQueryVolume: Int = 300
    /// Under-exposed: purchase share must exceed impression share at least this many times (§2.2 [24][25]).
    public var sqpUnderExposedRatio: Double = 1.5
    /// Under-exposed: fewest ASIN purchases before the funnel is trusted.
    public var sqpUnderExposedMinPurchases: Int = 3
    /// Leaking: click share at least this many times purchase share (§2.2 [23][26]).
    public var sqpLeakRatio: Double = 2.0
    /// Leaking: smallest click share (fraction) worth diagnosing.
    public var sqpLeakMinClickShare: Double = 0.05
    /// Leaking: fewest ASIN clicks before the funnel is trusted.
    public var sqpLeakMinClicks: Int = 30
    /// Coverage gap: summed volume at or above this counts as high volume (§2.2 [25]).
    public var sqpHighVolume: Int = 2_000
    /// Coverage gap: impression share at or below this counts as near zero (§2.2 [25]).
    public var sqpNearZeroImpressionShare: Double = 0.005
    /// Coverage gap: share of the query's words that must appear in the listing to call it relevant.
    public var sqpRelevanceMinOverlap: Double = 0.5

    // MARK: Pricing (§2.4)

    /// Largest price change recommended per day, percent of the current landed price (§2.4 [109]).
    public var maxDailyPriceChangePercent: Double = 10
    /// An FBA offer may sit this much above an FBM Buy Box winner (§2.4 [75][76]: FBA may price above MFN).
    public var fbaPremiumOverFBMPercent: Double = 2
    /// With the Buy Box won, suggest a raise only when the cheapest competitor is at least this much higher.
    public var raiseHeadroomPercent: Double = 3

    // MARK: Advertising (§2.3)

    /// Days before the analysis day whose ads data is still being restated and is ignored (§2.3 [47][36]).
    public var unsettledDays: Int = 3
    /// Settled days used to estimate conversion rate and order value (Ad Badger uses 40, §2.3 [31]).
    public var adsLookbackDays: Int = 40
    /// Weight of the parent-level prior in clicks (Beta prior strength α + β, §2.3 [30][45]).
    public var priorStrengthClicks: Double = 40
    /// Weight of the parent-level average order value, in orders.
    public var aovPriorOrders: Double = 2
    /// A parent level serves as prior only with at least this many orders (AdLabs climbs until ≥ 1, §2.3 [45]).
    public var priorMinOrders: Int = 1
    /// Judge a target only after `clickThresholdMultiplier × 100 ÷ CVR%` clicks (≈ 65% chance of a sale, §2.3 [32]).
    public var clickThresholdMultiplier: Double = 1
    /// Never judge with fewer clicks than this, whatever the conversion rate (OSS `min_clicks` 10, §2.3 [115]).
    public var minClicksToJudge: Int = 10
    /// Largest bid raise per run, percent (OSS default +15%, §2.3 [115]).
    public var maxBidIncreasePercent: Double = 15
    /// Largest bid cut per run, percent (OSS default −20%, §2.3 [115]).
    public var maxBidDecreasePercent: Double = 20
    /// Bid moves smaller than this (currency units) are not worth a recommendation.
    public var minBidChange: Double = 0.02
    /// Negative candidate: fewest clicks with no order (Merchjar 20 default, §2.3 [37][34]).
    public var negativeMinClicks: Int = 20
    /// Negative candidate: fewest clicks when the search term is an ASIN (product targets ≥ 5, §2.3 [35]).
    public var negativeProductMinClicks: Int = 5
    /// Negative candidate: least spend with no order.
    public var negativeMinSpend: Double = 10
    /// Harvest: fewest orders of a search term (Teikametrics ≥ 2, §2.3 [38]).
    public var harvestMinOrders: Int = 2
    /// Harvest: fewest clicks (Teikametrics ≥ 2, §2.3 [38]).
    public var harvestMinClicks: Int = 2
    /// Harvest: highest ACoS percent (Teikametrics < 50%, §2.3 [38]).
    public var harvestMaxACoSPercent: Double = 50

    // MARK: Change detection (§2.5)

    /// Own price move (percent of the previous landed price) that raises an alert (§2.5 [89]).
    public var ownPriceChangePercent: Double = 5
    /// Competitor or Buy Box price move that raises an alert (§2.5 [89]).
    public var competitorPriceChangePercent: Double = 10
    /// Recent window of the ACoS spike comparison, settled days.
    public var acosRecentDays: Int = 7
    /// Baseline window of the ACoS spike comparison, settled days before the recent window.
    public var acosBaselineDays: Int = 28
    /// Recent ACoS at least this many times the baseline is a spike.
    public var acosSpikeRatio: Double = 1.5
    /// Least recent spend for an ACoS spike to matter.
    public var acosSpikeMinSpend: Double = 20
    /// Recent window (days) of the Sales and Traffic comparisons.
    public var trafficRecentDays: Int = 7
    /// Baseline window (days) before the recent one.
    public var trafficBaselineDays: Int = 28
    /// Buy Box percentage drop in points that is sharp (the burst rule uses > 30 within 24 h, §2.5 [92]).
    public var buyBoxPercentageDropPoints: Double = 20
    /// Relative unit session percentage drop that is sharp, percent of the baseline.
    public var unitSessionDropPercent: Double = 40
    /// Fewest recent sessions before a conversion drop is trusted.
    public var unitSessionMinSessions: Int = 100

    // MARK: Rewrites

    /// Listings whose quality score is below this get a rewrite even without keyword gaps.
    public var rewriteBelowScore: Double = 90
    /// Most listings sent to an external rewriter per run, worst first; the rest use the rule-based rewrite.
    public var maxExternalRewritesPerRun: Int = 20

    /// The documented defaults.
    public init() {}
}
