/// A job kind: one Redis stream each, consumed by the worker executable that owns it.
public struct JobKind: RawRepresentable, Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }

    public static func < (lhs: JobKind, rhs: JobKind) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A seller's whole nightly fetch; fans out into the data-set kinds.
    public static let fetch = JobKind(rawValue: "fetch")
    public static let fetchListings = JobKind(rawValue: "fetch-listings")
    public static let fetchPricing = JobKind(rawValue: "fetch-pricing")
    public static let fetchTraffic = JobKind(rawValue: "fetch-traffic")
    public static let fetchSQP = JobKind(rawValue: "fetch-sqp")
    public static let fetchAds = JobKind(rawValue: "fetch-ads")
    public static let analyze = JobKind(rawValue: "analyze")
    public static let alert = JobKind(rawValue: "alert")
    /// Crypto-shred a seller's data (revocation or deletion request).
    public static let wipe = JobKind(rawValue: "wipe")
    /// Write a full export archive of a seller's data.
    public static let export = JobKind(rawValue: "export")
    /// Delete a seller's rows past the retention window.
    public static let retention = JobKind(rawValue: "retention")

    /// The kinds each worker executable consumes.
    public static let fetcherKinds: [JobKind] = [.fetch, .fetchListings, .fetchPricing, .fetchTraffic, .fetchSQP, .fetchAds]
    public static let analyzerKinds: [JobKind] = [.analyze]
    public static let alerterKinds: [JobKind] = [.alert]
    public static let janitorKinds: [JobKind] = [.wipe, .export, .retention]

    /// Every kind the pipeline knows; anything else is refused at enqueue and dead-lettered at dequeue.
    public static let all: [JobKind] = fetcherKinds + analyzerKinds + alerterKinds + janitorKinds
}
