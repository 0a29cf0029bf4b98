public import Domain
public import Foundation
public import SellerStore

/// A seller as the scheduler sees it.
public struct ScheduledSeller: Sendable, Equatable {
    public var id: SellerID
    public var marketplaceIDs: [String]
    public var status: SellerStatus
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: SellerID, marketplaceIDs: [String], status: SellerStatus = .active, createdAt: Date = .distantPast, revokedAt: Date? = nil) {
        self.id = id
        self.marketplaceIDs = marketplaceIDs
        self.status = status
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// When each seller's runs are due: the pure calendar arithmetic of the scheduler.
///
/// A seller's nightly run is at the configured hour in its home marketplace's IANA time zone
/// (the first marketplace registered; daylight-saving changes honoured by the calendar), plus a
/// stable per-seller offset within the spread window, so thousands of sellers do not start in
/// the same second and each seller starts at the same minute every night.
public struct NightlyPlan: Sendable {
    public let configuration: SchedulerConfiguration

    public init(configuration: SchedulerConfiguration) {
        self.configuration = configuration
    }

    /// The seller's home time zone (UTC when its marketplace is unknown).
    public func timeZone(for seller: ScheduledSeller) -> TimeZone {
        seller.marketplaceIDs.first.flatMap(Marketplace.named).flatMap { TimeZone(identifier: $0.timeZone) } ?? TimeZone(identifier: "UTC")!
    }

    /// The local hour of the seller's nightly run.
    public func fetchHour(for seller: ScheduledSeller) -> Int {
        guard let id = seller.marketplaceIDs.first else { return configuration.fetchHour }
        let country = Marketplace.named(id)?.countryCode ?? ""
        return configuration.fetchHourByMarketplace[id] ?? configuration.fetchHourByMarketplace[country] ?? configuration.fetchHour
    }

    /// Stable offset of the seller within a window of `window` seconds (FNV-1a of its id).
    public static func offset(of seller: SellerID, within window: Double) -> Double {
        guard window >= 1 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seller.rawValue.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Double(hash % UInt64(window))
    }

    /// The instant of `hour`:00 on local `day` in `zone`, plus `offset` seconds.
    public static func instant(day: Day, hour: Int, offset: Double, in zone: TimeZone) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let parts = day.rawValue.split(separator: "-").compactMap { Int($0) }
        let start = calendar.date(from: DateComponents(year: parts[0], month: parts[1], day: parts[2], hour: hour))
            ?? calendar.startOfDay(for: day.startDate)
        return start.addingTimeInterval(offset)
    }

    /// The seller's nightly run time on its local `day`.
    public func fetchSlot(for seller: ScheduledSeller, on day: Day) -> Date {
        Self.instant(day: day, hour: fetchHour(for: seller), offset: Self.offset(of: seller.id, within: configuration.spreadSeconds),
                     in: timeZone(for: seller))
    }

    /// The most recent nightly slot at or before `now`: its local day and time.
    public func latestFetchSlot(for seller: ScheduledSeller, at now: Date) -> (day: Day, at: Date) {
        let today = Day(now, timeZone: timeZone(for: seller))
        let slot = fetchSlot(for: seller, on: today)
        if slot <= now { return (today, slot) }
        let yesterday = today.adding(days: -1)
        return (yesterday, fetchSlot(for: seller, on: yesterday))
    }

    /// The most recent daily retention slot at or before `now` (UTC day).
    public func latestRetentionSlot(for seller: SellerID, at now: Date) -> (day: Day, at: Date) {
        let utc = TimeZone(identifier: "UTC")!
        let offset = Self.offset(of: seller, within: configuration.spreadSeconds)
        let today = Day(now)
        let slot = Self.instant(day: today, hour: configuration.retentionHourUTC, offset: offset, in: utc)
        if slot <= now { return (today, slot) }
        let yesterday = today.adding(days: -1)
        return (yesterday, Self.instant(day: yesterday, hour: configuration.retentionHourUTC, offset: offset, in: utc))
    }
}
