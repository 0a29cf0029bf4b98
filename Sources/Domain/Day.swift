import Foundation

/// A calendar day (`YYYY-MM-DD`), the unit of capture, retention and idempotent re-fetch.
///
/// Stored as its ISO string so it sorts and indexes as text in every store table.
public struct Day: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init?(rawValue: String) {
        guard Day.parse(rawValue) != nil else { return nil }
        self.rawValue = rawValue
    }

    /// The UTC day containing `date`.
    public init(_ date: Date, timeZone: TimeZone = TimeZone(identifier: "UTC")!) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        rawValue = String(format: "%04d-%02d-%02d", c.year!, c.month!, c.day!)
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let day = Day(rawValue: raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "invalid day '\(raw)'"))
        }
        self = day
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Midnight UTC at the start of the day.
    public var startDate: Date {
        let (y, m, d) = Day.parse(rawValue)!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.date(from: DateComponents(year: y, month: m, day: d))!
    }

    /// The day `n` days later (earlier for negative `n`).
    public func adding(days n: Int) -> Day {
        Day(startDate.addingTimeInterval(Double(n) * 86_400))
    }

    /// Whole days from `self` to `other`.
    public func days(until other: Day) -> Int {
        Int((other.startDate.timeIntervalSince(startDate) / 86_400).rounded())
    }

    /// Day of week, 1 = Sunday … 7 = Saturday (Amazon's Brand Analytics weeks run Sunday–Saturday).
    public var weekday: Int {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar.component(.weekday, from: startDate)
    }

    public var description: String { rawValue }

    public static func < (lhs: Day, rhs: Day) -> Bool { lhs.rawValue < rhs.rawValue }

    private static func parse(_ s: String) -> (Int, Int, Int)? {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard s.utf8.count == 10, parts.count == 3,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d), y >= 1970 else { return nil }
        return (y, m, d)
    }
}
