public import Domain
import GRDB

/// A table of a seller's database: its name and the column holding each row's capture day.
public struct SellerTable: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    /// Indexed capture-day column (`day`, or `weekStart` for Search Query Performance).
    public let captureColumn: String

    init(_ name: String, captureColumn: String = "day") {
        self.name = name
        self.captureColumn = captureColumn
    }

    public var description: String { name }

    /// Every data table, in export order.
    public static let all: [SellerTable] = [
        ListingSnapshot.sellerTable, OfferSnapshot.sellerTable, SalesTrafficRow.sellerTable,
        SearchQueryRow.sellerTable, AdCampaign.sellerTable, AdGroup.sellerTable, AdTarget.sellerTable,
        AdMetricRow.sellerTable, SearchTermRow.sellerTable, Recommendation.sellerTable, Alert.sellerTable,
        AlertDelivery.sellerTable,
    ]
}

/// A Domain value stored as one row of a seller table (columns named after its Codable keys).
///
/// Saving a row whose primary key exists replaces it, so a re-fetch of the same day is idempotent.
public protocol SellerTableRow: Codable, Sendable {
    static var sellerTable: SellerTable { get }
}

extension ListingSnapshot: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("listing_snapshot") } }
extension OfferSnapshot: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("offer_snapshot") } }
extension SalesTrafficRow: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("sales_traffic") } }
extension SearchQueryRow: SellerTableRow {
    public static var sellerTable: SellerTable { SellerTable("search_query", captureColumn: "weekStart") }
}
extension AdCampaign: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("ad_campaign") } }
extension AdGroup: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("ad_group") } }
extension AdTarget: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("ad_target") } }
extension AdMetricRow: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("ad_metric") } }
extension SearchTermRow: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("search_term") } }
extension Recommendation: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("recommendation") } }
extension Alert: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("alert") } }
extension AlertDelivery: SellerTableRow { public static var sellerTable: SellerTable { SellerTable("alert_delivery") } }

/// GRDB record around a Domain value, so GRDB conformances stay inside this module.
struct StoredRow<Value: SellerTableRow>: Codable, FetchableRecord, PersistableRecord {
    var value: Value

    init(_ value: Value) { self.value = value }
    init(from decoder: any Decoder) throws { value = try Value(from: decoder) }
    func encode(to encoder: any Encoder) throws { try value.encode(to: encoder) }

    static var databaseTableName: String { Value.sellerTable.name }
    static var persistenceConflictPolicy: PersistenceConflictPolicy {
        PersistenceConflictPolicy(insert: .replace, update: .replace)
    }
}
