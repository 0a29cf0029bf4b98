import Domain
import JobQueue

/// Every Redis key OptMazon uses, in one place.
///
/// Layout (prefix `optmazon`, shard 0 shown; `{…}` is a Redis Cluster hash tag, so all keys of a
/// shard live in one slot and every Lua script may touch any of them):
///
/// | key | type | holds |
/// | --- | --- | --- |
/// | `{optmazon:0}:stream:<kind>` | stream, group `workers` | jobs ready to run (field `job` = envelope JSON) |
/// | `{optmazon:0}:delayed:<kind>` | sorted set, score = due time (ms, Redis clock) | retries, lock deferrals, `--at` jobs |
/// | `{optmazon:0}:dead` | stream, capped | dead-lettered jobs with their error |
/// | `{optmazon:0}:dead:count` | hash | kind → entries of that kind in the dead-letter stream (kept by the scripts that add or remove them) |
/// | `{optmazon:0}:unique:<key>` | string with TTL | unique-job key → job id |
/// | `{optmazon:0}:lock:<seller>` | string with TTL | per-seller exclusivity lock → holder token |
/// | `{optmazon:0}:waiting:<seller>` | list | jobs parked behind the seller's lock, handed over on release |
/// | `{optmazon:0}:waiting` | set | sellers with parked jobs |
/// | `{optmazon:0}:stats:<kind>` | hash | processed, retried, deferred, failed counters |
/// | `{optmazon:0}:latency:<kind>` | hash | job latency histogram: `le_<seconds>` buckets, `sum_ms`, `count` |
/// | `{optmazon:0}:consumers` | hash | worker name → last heartbeat JSON |
/// | `{optmazon:0}:ratelimit:<seller>:<operation>` | hash with TTL | Amazon API token bucket |
/// | `{optmazon:0}:scheduler:*` | strings/hashes | scheduler lease and run bookkeeping |
/// | `{optmazon:0}:fetchrun:<seller>:<run>` | hash with TTL | one fetch run's fan-in: expected data sets, day, `done:<data set>` |
/// | `{optmazon:0}:probe:*` | counters | written only by `optmazon-queue-probe` (tests, benchmark) |
/// | `{optmazon:0}:stats:api` | hash | Amazon API calls per operation: `<operation>:calls`, `<operation>:429` |
/// | `{optmazon:0}:oauth-state:<nonce>` | string with TTL | one-time marker of a used onboarding OAuth `state` (SET NX) |
///
/// A seller's jobs always go to shard `fnv1a(seller) % shardCount`, so a multi-machine
/// deployment runs each machine's workers on the shard whose seller files it holds.
public struct RedisKeys: Sendable, Equatable {
    public let prefix: String
    public let shard: Int
    public let shardCount: Int
    /// The consumer group every worker joins.
    public let group = "workers"

    public init(prefix: String = "optmazon", shard: Int = 0, shardCount: Int = 1) {
        self.prefix = prefix
        self.shard = shard
        self.shardCount = max(1, shardCount)
    }

    /// The same key space, on the shard that owns `seller`.
    public func routed(to seller: SellerID) -> RedisKeys {
        RedisKeys(prefix: prefix, shard: RedisKeys.shard(of: seller, count: shardCount), shardCount: shardCount)
    }

    /// Which shard a seller belongs to (FNV-1a of its id: stable across processes and versions).
    public static func shard(of seller: SellerID, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in seller.rawValue.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(max(1, count)))
    }

    private var tag: String { "{\(prefix):\(shard)}" }

    public func stream(_ kind: JobKind) -> String { "\(tag):stream:\(kind.rawValue)" }
    public func delayed(_ kind: JobKind) -> String { "\(tag):delayed:\(kind.rawValue)" }
    public var dead: String { "\(tag):dead" }
    /// Dead-letter entries per kind (field = kind), so `status` need not read the dead-letter stream.
    public var deadCounts: String { "\(tag):dead:count" }
    public func unique(_ key: String) -> String { "\(tag):unique:\(key)" }
    public func lock(_ seller: SellerID) -> String { "\(tag):lock:\(seller.rawValue)" }
    /// Jobs parked while their seller's lock is held, in arrival order (`kind|envelope`).
    public func waiting(_ seller: SellerID) -> String { "\(tag):waiting:\(seller.rawValue)" }
    /// Sellers that have parked jobs.
    public var waitingSellers: String { "\(tag):waiting" }
    /// The common start of every key of this shard (`{prefix:shard}:`), for scripts that build key names.
    public var tagPrefix: String { "\(tag):" }
    /// Start of every stream key (`…:stream:`), completed by a kind name inside scripts.
    public var streamPrefix: String { "\(tag):stream:" }
    public func stats(_ kind: JobKind) -> String { "\(tag):stats:\(kind.rawValue)" }
    /// Job latency (enqueue to settle) histogram of a kind: fields `le_<bound>`, `sum_ms`, `count`.
    public func latency(_ kind: JobKind) -> String { "\(tag):latency:\(kind.rawValue)" }
    /// Upper bounds (seconds) of the latency histogram buckets; each job increments exactly one bucket.
    public static let latencyBounds: [Double] = [0.1, 0.5, 1, 5, 30, 120, 600, .infinity]

    /// The latency bucket field for a job that took `seconds`.
    public static func latencyField(seconds: Double) -> String {
        let bound = latencyBounds.first { seconds <= $0 } ?? .infinity
        if bound == .infinity { return "le_inf" }
        return bound == bound.rounded() ? "le_\(Int(bound))" : "le_\(bound)"
    }
    public var consumers: String { "\(tag):consumers" }
    public func rateLimit(_ seller: SellerID, operation: String) -> String { "\(tag):ratelimit:\(seller.rawValue):\(operation)" }
    public func scheduler(_ name: String) -> String { "\(tag):scheduler:\(name)" }
    /// One fetch run of a seller: which data sets it expects and which are stored (fan-in to one analyze job).
    public func fetchRun(_ seller: SellerID, run: String) -> String { "\(tag):fetchrun:\(seller.rawValue):\(run)" }
    /// Amazon API calls and throttles per operation (fields `<operation>:calls`, `<operation>:429`), read by `/metrics`.
    public var apiStats: String { "\(tag):stats:api" }
    /// One-time marker of an onboarding OAuth `state` that was presented to `/callback` (set with NX and a TTL).
    public func oauthState(_ nonce: String) -> String { "\(tag):oauth-state:\(nonce)" }
    /// Counters the queue probe writes (tests and `scripts/bench queue` only).
    public func probe(_ name: String) -> String { "\(tag):probe:\(name)" }
    /// Pattern matching every key of this shard (for test cleanup and operators).
    public var pattern: String { "\(tag):*" }
}
