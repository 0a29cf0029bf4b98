import Domain
import Foundation
import JobQueue

/// One data set of a seller's fetch: the unit that is fetched, stored (one transaction) and retried on its own.
public enum FetchDataSet: String, CaseIterable, Sendable, Hashable, Comparable {
    case listings, pricing, traffic, sqp, ads

    /// The job kind that fetches this data set.
    public var kind: JobKind {
        switch self {
        case .listings: .fetchListings
        case .pricing: .fetchPricing
        case .traffic: .fetchTraffic
        case .sqp: .fetchSQP
        case .ads: .fetchAds
        }
    }

    /// The data set a job kind fetches, nil for other kinds.
    public init?(kind: JobKind) {
        guard let match = FetchDataSet.allCases.first(where: { $0.kind == kind }) else { return nil }
        self = match
    }

    /// Data sets that need the run's stored listings (SKU/ASIN inventory), so the listings job enqueues them.
    public var needsListings: Bool { self == .pricing || self == .sqp }

    public static func < (lhs: FetchDataSet, rhs: FetchDataSet) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// The arguments every fetch-run job carries: the run id (fan-in key) and the capture day.
///
/// Both are fixed when the `fetch` job fans out, so every data set of a run, and every retry or
/// re-delivery of it, writes the same day and reports to the same run.
public struct FetchRunArguments: Sendable, Hashable {
    /// Argument names in `JobEnvelope.arguments`.
    public static let runKey = "run"
    public static let dayKey = "day"

    /// Longest accepted run id; run ids become part of Redis keys and unique-job keys.
    public static let maxRunLength = 100

    /// The run this job belongs to; nil for a data-set job enqueued on its own (no fan-in).
    public var run: String?
    public var day: Day

    public init(run: String?, day: Day) {
        self.run = run
        self.day = day
    }

    /// The arguments of a data-set job of this run.
    public var encoded: [String: String] {
        var out = [FetchRunArguments.dayKey: day.rawValue]
        if let run { out[FetchRunArguments.runKey] = run }
        return out
    }

    /// Arguments of a `fetch` job: `run` defaults to the job id, `day` to the UTC day the job was first enqueued,
    /// both stable across retries and re-deliveries of the same job.
    static func forFetch(_ job: JobEnvelope) throws(FetchError) -> FetchRunArguments {
        let run = job.arguments[runKey] ?? job.id
        try validate(run: run, job: job)
        let day: Day
        if let raw = job.arguments[dayKey] {
            guard let parsed = Day(rawValue: raw) else {
                throw FetchError(seller: job.seller, kind: job.kind, day: nil, reason: .badArgument("'day' must be YYYY-MM-DD, got '\(raw.prefix(20))'"))
            }
            day = parsed
        } else {
            day = Day(Date(timeIntervalSince1970: Double(job.enqueuedAt) / 1000))
        }
        return FetchRunArguments(run: run, day: day)
    }

    /// Arguments of a data-set job: `day` is required, `run` optional.
    static func forDataSet(_ job: JobEnvelope) throws(FetchError) -> FetchRunArguments {
        guard let raw = job.arguments[dayKey] else {
            throw FetchError(seller: job.seller, kind: job.kind, day: nil, reason: .badArgument("the 'day' argument is missing"))
        }
        guard let day = Day(rawValue: raw) else {
            throw FetchError(seller: job.seller, kind: job.kind, day: nil, reason: .badArgument("'day' must be YYYY-MM-DD, got '\(raw.prefix(20))'"))
        }
        let run = job.arguments[runKey]
        if let run { try validate(run: run, job: job) }
        return FetchRunArguments(run: run, day: day)
    }

    private static func validate(run: String, job: JobEnvelope) throws(FetchError) {
        let allowed = run.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"):
                return true
            default:
                return false
            }
        }
        guard !run.isEmpty, run.utf8.count <= maxRunLength, allowed else {
            throw FetchError(seller: job.seller, kind: job.kind, day: nil,
                             reason: .badArgument("'run' must be 1-\(maxRunLength) letters, digits or '-_.:'"))
        }
    }
}
