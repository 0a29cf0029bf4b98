/// An Amazon selling region; authorizations, endpoints and rate limits are regional.
public enum Region: String, Codable, Sendable, CaseIterable {
    case na, eu, fe

    /// Production SP-API endpoint of the region.
    public var spapiEndpoint: String {
        switch self {
        case .na: return "https://sellingpartnerapi-na.amazon.com"
        case .eu: return "https://sellingpartnerapi-eu.amazon.com"
        case .fe: return "https://sellingpartnerapi-fe.amazon.com"
        }
    }

    /// Production Amazon Ads API endpoint of the region.
    public var adsEndpoint: String {
        switch self {
        case .na: return "https://advertising-api.amazon.com"
        case .eu: return "https://advertising-api-eu.amazon.com"
        case .fe: return "https://advertising-api-fe.amazon.com"
        }
    }
}

/// A marketplace id such as `ATVPDKIKX0DER`, with the region and time zone it belongs to.
public struct Marketplace: Hashable, Sendable {
    public let id: String
    public let countryCode: String
    public let region: Region
    /// IANA time zone used to schedule nightly runs at a local hour.
    public let timeZone: String

    /// Every marketplace Amazon lists for SP-API (shared/spapi/README.md §8).
    public static let all: [Marketplace] = [
        .init(id: "ATVPDKIKX0DER", countryCode: "US", region: .na, timeZone: "America/Los_Angeles"),
        .init(id: "A2EUQ1WTGCTBG2", countryCode: "CA", region: .na, timeZone: "America/Los_Angeles"),
        .init(id: "A1AM78C64UM0Y8", countryCode: "MX", region: .na, timeZone: "America/Mexico_City"),
        .init(id: "A2Q3Y263D00KWC", countryCode: "BR", region: .na, timeZone: "America/Sao_Paulo"),
        .init(id: "A1F83G8C2ARO7P", countryCode: "UK", region: .eu, timeZone: "Europe/London"),
        .init(id: "A1PA6795UKMFR9", countryCode: "DE", region: .eu, timeZone: "Europe/Berlin"),
        .init(id: "A13V1IB3VIYZZH", countryCode: "FR", region: .eu, timeZone: "Europe/Paris"),
        .init(id: "APJ6JRA9NG5V4", countryCode: "IT", region: .eu, timeZone: "Europe/Rome"),
        .init(id: "A1RKKUPIHCS9HS", countryCode: "ES", region: .eu, timeZone: "Europe/Madrid"),
        .init(id: "A1805IZSGTT6HS", countryCode: "NL", region: .eu, timeZone: "Europe/Amsterdam"),
        .init(id: "A2NODRKZP88ZB9", countryCode: "SE", region: .eu, timeZone: "Europe/Stockholm"),
        .init(id: "A1C3SOZRARQ6R3", countryCode: "PL", region: .eu, timeZone: "Europe/Warsaw"),
        .init(id: "AMEN7PMS3EDWL", countryCode: "BE", region: .eu, timeZone: "Europe/Brussels"),
        .init(id: "A28R8C7NBKEWEA", countryCode: "IE", region: .eu, timeZone: "Europe/Dublin"),
        .init(id: "A33AVAJ2PDY3EV", countryCode: "TR", region: .eu, timeZone: "Europe/Istanbul"),
        .init(id: "ARBP9OOSHTCHU", countryCode: "EG", region: .eu, timeZone: "Africa/Cairo"),
        .init(id: "A17E79C6D8DWNP", countryCode: "SA", region: .eu, timeZone: "Asia/Riyadh"),
        .init(id: "A2VIGQ35RCS4UG", countryCode: "AE", region: .eu, timeZone: "Asia/Dubai"),
        .init(id: "A21TJRUUN4KGV", countryCode: "IN", region: .eu, timeZone: "Asia/Kolkata"),
        .init(id: "AE08WJ6YKNBMC", countryCode: "ZA", region: .eu, timeZone: "Africa/Johannesburg"),
        .init(id: "A1VC38T7YXB528", countryCode: "JP", region: .fe, timeZone: "Asia/Tokyo"),
        .init(id: "A39IBJ37TRP1C6", countryCode: "AU", region: .fe, timeZone: "Australia/Sydney"),
        .init(id: "A19VAU5U5O7RUS", countryCode: "SG", region: .fe, timeZone: "Asia/Singapore"),
    ]

    /// Looks a marketplace id up in Amazon's list.
    public static func named(_ id: String) -> Marketplace? { all.first { $0.id == id } }
}
