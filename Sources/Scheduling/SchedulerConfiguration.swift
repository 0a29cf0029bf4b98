import Foundation

/// How the scheduler plans nightly runs, retention sweeps and wipe checks.
public struct SchedulerConfiguration: Sendable, Equatable {
    /// Local hour (0–23) of a seller's nightly fetch, in its home marketplace's time zone.
    public var fetchHour: Int
    /// Per-marketplace hours, by marketplace id (`ATVPDKIKX0DER`) or country code (`US`).
    public var fetchHourByMarketplace: [String: Int]
    /// Sellers' runs are spread over this many seconds after the hour (stable per seller).
    public var spreadSeconds: Double
    /// Runs found missed on start (scheduler down over the slot) are spread over this many seconds from now.
    public var catchUpSpreadSeconds: Double
    /// A slot passed less than this long ago is on time, not a catch-up (covers a leader failover).
    public var catchUpGraceSeconds: Double
    /// UTC hour of each seller's daily retention sweep.
    public var retentionHourUTC: Int
    /// Seconds the leader's lease lasts without renewal; a standby takes over after it.
    public var leaseSeconds: Double
    /// Seconds between scheduler ticks (the lease is renewed each tick).
    public var tickSeconds: Double
    /// Seconds between re-reads of the seller registry.
    public var sellerRefreshSeconds: Double
    /// Seconds between checks for revoked sellers still to wipe.
    public var wipeCheckSeconds: Double
    /// A revoked seller not wiped this long after revocation is overdue (operator alert).
    public var wipeTargetSeconds: Double
    /// An overdue wipe is re-alerted at most this often, and re-enqueued at most this often.
    public var wipeRetrySeconds: Double
    /// How long a per-day unique key is held (longer than a day, so catch-up never repeats a run).
    public var uniqueSeconds: Double

    public init(fetchHour: Int = 2, fetchHourByMarketplace: [String: Int] = [:], spreadSeconds: Double = 3600,
                catchUpSpreadSeconds: Double = 900, catchUpGraceSeconds: Double = 300, retentionHourUTC: Int = 4,
                leaseSeconds: Double = 15, tickSeconds: Double = 1, sellerRefreshSeconds: Double = 60,
                wipeCheckSeconds: Double = 300, wipeTargetSeconds: Double = 86_400, wipeRetrySeconds: Double = 3600,
                uniqueSeconds: Double = 48 * 3600) {
        self.fetchHour = fetchHour
        self.fetchHourByMarketplace = fetchHourByMarketplace
        self.spreadSeconds = spreadSeconds
        self.catchUpSpreadSeconds = catchUpSpreadSeconds
        self.catchUpGraceSeconds = catchUpGraceSeconds
        self.retentionHourUTC = retentionHourUTC
        self.leaseSeconds = leaseSeconds
        self.tickSeconds = tickSeconds
        self.sellerRefreshSeconds = sellerRefreshSeconds
        self.wipeCheckSeconds = wipeCheckSeconds
        self.wipeTargetSeconds = wipeTargetSeconds
        self.wipeRetrySeconds = wipeRetrySeconds
        self.uniqueSeconds = uniqueSeconds
    }

    /// The configuration keys read by ``init(raw:)``: name, default, help (for `ConfigKeys.all`).
    public static let keys: [(name: String, defaultValue: String, help: String)] = [
        ("scheduler.fetch.hour", "2", "local hour (0-23) of each seller's nightly run"),
        ("scheduler.fetch.hours", "", "per-marketplace hours, e.g. US=1,JP=3 (country code or marketplace id)"),
        ("scheduler.spread.seconds", "3600", "nightly runs are spread over this many seconds after the hour"),
        ("scheduler.catchup.spread.seconds", "900", "missed runs found on start are spread over this many seconds"),
        ("scheduler.retention.hour", "4", "UTC hour of the daily retention sweep"),
        ("scheduler.lease.seconds", "15", "leader lease; a standby scheduler takes over after it"),
        ("scheduler.tick.seconds", "1", "seconds between scheduler ticks"),
        ("scheduler.wipe.check.seconds", "300", "seconds between checks for revoked sellers to wipe"),
        ("scheduler.wipe.target.hours", "24", "hours after revocation a wipe becomes overdue (policy: 720)"),
    ]

    /// Parses the `scheduler.*` keys of `raw` (missing keys keep their defaults).
    public init(raw: [String: String]) throws(SchedulerConfigError) {
        self.init()
        func number(_ key: String, _ range: ClosedRange<Double>) throws(SchedulerConfigError) -> Double? {
            guard let text = raw[key]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            guard let value = Double(text), range.contains(value) else {
                throw SchedulerConfigError(key: key, message: "'\(text.prefix(40))' must be a number from \(range.lowerBound) to \(range.upperBound)")
            }
            return value
        }
        func hour(_ key: String, _ text: String) throws(SchedulerConfigError) -> Int {
            guard let value = Int(text.trimmingCharacters(in: .whitespaces)), (0...23).contains(value) else {
                throw SchedulerConfigError(key: key, message: "'\(text.prefix(40))' must be an hour from 0 to 23")
            }
            return value
        }
        if let text = raw["scheduler.fetch.hour"], !text.isEmpty { fetchHour = try hour("scheduler.fetch.hour", text) }
        if let text = raw["scheduler.fetch.hours"], !text.isEmpty {
            for item in text.split(separator: ",") {
                let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw SchedulerConfigError(key: "scheduler.fetch.hours", message: "'\(item.prefix(40))' must look like US=2")
                }
                fetchHourByMarketplace[parts[0]] = try hour("scheduler.fetch.hours", parts[1])
            }
        }
        if let v = try number("scheduler.spread.seconds", 0...86_400) { spreadSeconds = v }
        if let v = try number("scheduler.catchup.spread.seconds", 0...86_400) { catchUpSpreadSeconds = v }
        if let text = raw["scheduler.retention.hour"], !text.isEmpty { retentionHourUTC = try hour("scheduler.retention.hour", text) }
        if let v = try number("scheduler.lease.seconds", 1...3600) { leaseSeconds = v }
        if let v = try number("scheduler.tick.seconds", 0.05...60) { tickSeconds = v }
        if let v = try number("scheduler.wipe.check.seconds", 1...86_400) { wipeCheckSeconds = v }
        if let v = try number("scheduler.wipe.target.hours", 0...720) { wipeTargetSeconds = v * 3600 }
        guard tickSeconds < leaseSeconds else {
            throw SchedulerConfigError(key: "scheduler.tick.seconds", message: "\(tickSeconds) must be below scheduler.lease.seconds (\(leaseSeconds))")
        }
    }
}

/// A refused scheduler setting, naming the key.
public struct SchedulerConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public let key: String
    public let message: String

    public var description: String {
        "config: \(key) (OPTMAZON_\(key.uppercased().replacingOccurrences(of: ".", with: "_"))): \(message)"
    }
}
