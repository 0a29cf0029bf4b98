import Analysis
import Domain
import SellerStore

/// Reads what one analysis needs from a seller's store: the newest and previous snapshots and up to 90 days of history.
///
/// Listing and offer snapshots are read one capture day at a time walking back from the analysis day,
/// so a 2,000-SKU seller costs two days of snapshots in memory, not ninety.
public struct AnalysisInputLoader: Sendable {
    /// Days of history read for Sales and Traffic, ads metrics and search terms (90 by issue 5).
    public var historyDays: Int
    /// How far before the newest snapshot the previous one of a SKU may lie and still be compared with it.
    public var changeLookbackDays: Int

    public init(historyDays: Int = 90, changeLookbackDays: Int = 7) {
        self.historyDays = max(1, historyDays)
        self.changeLookbackDays = max(1, changeLookbackDays)
    }

    /// The analysis input of `seller` for `day`; rows captured after `day` are ignored.
    public func load(from store: SellerStore, settings: SellerSettings, day: Day) async throws -> AnalysisInput {
        let from = day.adding(days: -(historyDays - 1))
        let listings = try await newestTwo(ListingSnapshot.self, in: store, through: day, from: from, key: { $0.sku }, day: \.day)
        let offers = try await newestTwo(OfferSnapshot.self, in: store, through: day, from: from,
                                         key: { $0.asin + "\u{1F}" + $0.sku }, day: \.day)
        let campaigns = try await newestDay(AdCampaign.self, in: store, through: day, from: from)
        let adGroups = try await newestDay(AdGroup.self, in: store, through: day, from: from)
        let targets = try await newestDay(AdTarget.self, in: store, through: day, from: from)
        // SQP weeks start up to 6 days before the first day of the window they cover.
        let searchQueries = try await store.rows(SearchQueryRow.self, from: from.adding(days: -6), through: day)
        return AnalysisInput(
            sellerID: store.sellerID, settings: settings, day: day,
            listings: listings.newest, previousListings: listings.previous,
            offers: offers.newest, previousOffers: offers.previous,
            salesTraffic: try await store.rows(SalesTrafficRow.self, from: from, through: day),
            searchQueries: searchQueries, campaigns: campaigns, adGroups: adGroups, targets: targets,
            adMetrics: try await store.rows(AdMetricRow.self, from: from, through: day),
            searchTerms: try await store.rows(SearchTermRow.self, from: from, through: day))
    }

    /// The newest snapshot of every key and the one before it, walking back a day at a time.
    ///
    /// Stops once every key seen has its previous snapshot, or `changeLookbackDays` after the newest capture day.
    func newestTwo<Row: SellerTableRow>(_ type: Row.Type, in store: SellerStore, through last: Day, from first: Day,
                                        key: (Row) -> String, day: (Row) -> Day) async throws -> (newest: [Row], previous: [Row]) {
        var newest: [String: Row] = [:]
        var previous: [String: Row] = [:]
        var firstCapture: Day?
        var current = last
        while current >= first {
            if let firstCapture, current < firstCapture.adding(days: -changeLookbackDays) { break }
            let rows = try await store.rows(type, from: current, through: current)
            if !rows.isEmpty, firstCapture == nil { firstCapture = current }
            for row in rows {
                let k = key(row)
                if let seen = newest[k] {
                    if previous[k] == nil, day(row) < day(seen) { previous[k] = row }
                } else {
                    newest[k] = row
                }
            }
            if firstCapture != nil, current < firstCapture!, previous.count == newest.count { break }
            current = current.adding(days: -1)
        }
        return (newest.keys.sorted().map { newest[$0]! }, previous.keys.sorted().map { previous[$0]! })
    }

    /// The rows of the newest capture day in `first...last` (entity snapshots: campaigns, ad groups, targets).
    func newestDay<Row: SellerTableRow>(_ type: Row.Type, in store: SellerStore, through last: Day, from first: Day) async throws -> [Row] {
        var current = last
        while current >= first {
            let rows = try await store.rows(type, from: current, through: current)
            if !rows.isEmpty { return rows }
            current = current.adding(days: -1)
        }
        return []
    }
}
