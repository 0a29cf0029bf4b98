import AmazonClient
import Domain
import Foundation
import JobQueueRedis
import Logging
import Redis

/// Amazon's token buckets in Redis, shared by every fetcher process and machine (per seller and operation).
///
/// Each bucket is one hash under `RedisKeys.rateLimit(seller, operation:)` (on the seller's shard) and every
/// change to it is one run of ``RateLimitScript``, which reads Redis' own `TIME`, so buckets are atomic across
/// processes and immune to skew between the machines' clocks. The arithmetic is the same GCRA form of a token
/// bucket as `TokenBucketRateLimiter` (see `RateLimiter`): a grant books its token at the latest instant the
/// request can reach Amazon (`grant + arrivalAllowance`), a completion of the newest grant re-books it at the
/// answer's instant, `adjust` stores the rate Amazon reported and `penalize` empties the bucket after a 429.
///
/// Ordering: the script answers "granted" or "wait N ms"; a waiting caller sleeps exactly that long and asks
/// again. Within one limiter instance (one process) callers of a bucket are strictly first-come first-served:
/// only the oldest waiter asks Redis, the others queue behind it locally. Across processes there is no
/// global queue: when a token frees up, whichever process' waiting head reaches Redis first takes it. Each head
/// retries at the instant Redis named, so heads interleave in practice, but a process is not guaranteed a
/// turn within any bound; the bucket itself (never more than `burst + rate × t` grants in any `t`) holds
/// regardless of ordering.
public final class RedisRateLimiter: RateLimiter {
    private let client: RedisClient
    private let keys: RedisKeys
    private let timeScale: Double
    private let allowanceMillis: Double
    private let idleMillis: Double
    private let line = LocalLine()
    private let logger: Logger

    /// - Parameters:
    ///   - client: a connection for short commands (may be shared with other short-command users).
    ///   - keys: the key space; buckets live on each seller's shard under its prefix.
    ///   - timeScale: how much faster than real time the counterpart's clock runs (1 for Amazon; the sandbox's
    ///     `--time-scale` in tests); rates are multiplied by it, Redis time is not.
    ///   - arrivalAllowance: the longest real time between a grant and the request reaching Amazon.
    ///   - idleExpiry: how long a bucket key outlives the moment its bucket is full again; a missing key is a
    ///     full bucket at the published rate, so only an `adjust`ed rate is forgotten when it expires.
    public init(client: RedisClient, keys: RedisKeys, timeScale: Double = 1, arrivalAllowance: Duration = .milliseconds(500),
                idleExpiry: Duration = .seconds(3600), logger: Logger = Logger(label: "optmazon.ratelimit")) {
        self.client = client
        self.keys = keys
        self.timeScale = max(timeScale, 1e-9)
        self.allowanceMillis = max(0, Self.millis(arrivalAllowance))
        self.idleMillis = max(1, Self.millis(idleExpiry))
        self.logger = logger
    }

    /// The Redis key of a seller's bucket for `operation`.
    public func key(seller: SellerID, operation: String) -> String {
        keys.routed(to: seller).rateLimit(seller, operation: operation)
    }

    /// Callers of this instance currently in `key`'s line (the one asking Redis plus those queued behind it).
    func lineLength(_ key: String) async -> Int { await line.length(key) }

    @discardableResult
    public func acquire(seller: SellerID, operation: String, rate: Double, burst: Int) async throws -> RateLimitGrant {
        try await acquireTimed(seller: seller, operation: operation, rate: rate, burst: burst).grant
    }

    /// `acquire`, also returning the Redis server time (ms since the epoch) at which the token was granted.
    func acquireTimed(seller: SellerID, operation: String, rate: Double, burst: Int) async throws -> (grant: RateLimitGrant, redisMillis: Double) {
        guard rate > 0, rate.isFinite else {
            throw RedisRateLimiterError(seller: seller, operation: operation, reason: "rate \(rate) is not a positive number")
        }
        let key = key(seller: seller, operation: operation)
        try await line.enter(key)
        do {
            while true {
                try Task.checkCancellation()
                let reply = try await run(.acquire, key: key, seller: seller, operation: operation, rate: rate, burst: burst, argument: "")
                switch reply {
                case let .granted(sequence, at):
                    await line.leave(key)
                    return (RateLimitGrant(seller: seller, operation: operation, sequence: sequence), at)
                case let .wait(millis):
                    try await Task.sleep(for: .milliseconds(max(1, millis)))
                case .done:
                    throw RedisRateLimiterError(seller: seller, operation: operation, reason: "unexpected script reply to acquire")
                }
            }
        } catch {
            await line.leave(key)
            throw error
        }
    }

    public func completed(_ grant: RateLimitGrant) async {
        await runQuietly(.complete, seller: grant.seller, operation: grant.operation, argument: String(grant.sequence))
    }

    public func adjust(seller: SellerID, operation: String, rate: Double) async {
        guard rate > 0, rate.isFinite else { return }
        await runQuietly(.adjust, seller: seller, operation: operation, argument: String(rate))
    }

    public func penalize(seller: SellerID, operation: String) async {
        await runQuietly(.penalize, seller: seller, operation: operation, argument: "")
    }

    // MARK: - Script calls

    enum Reply: Equatable {
        case granted(sequence: Int64, at: Double)
        case wait(millis: Int)
        case done
    }

    /// Bookkeeping after a call never fails the call: a lost completion only keeps the bucket conservative.
    private func runQuietly(_ mode: RateLimitScript.Mode, seller: SellerID, operation: String, argument: String) async {
        do {
            _ = try await run(mode, key: key(seller: seller, operation: operation), seller: seller, operation: operation,
                              rate: nil, burst: nil, argument: argument)
        } catch {
            logger.warning("rate limit bookkeeping failed", metadata: ["seller": "\(seller)", "operation": "\(operation)",
                                                                     "mode": "\(mode.rawValue)", "error": "\(error)"])
        }
    }

    private func run(_ mode: RateLimitScript.Mode, key: String, seller: SellerID, operation: String, rate: Double?, burst: Int?,
                     argument: String) async throws -> Reply {
        let args = [mode.rawValue, String(timeScale), rate.map { String($0) } ?? "", burst.map { String(max($0, 1)) } ?? "",
                    String(allowanceMillis), String(idleMillis), argument]
        let value: RedisValue
        do {
            value = try await client.eval(RateLimitScript.script, keys: [key], args: args)
        } catch {
            throw RedisRateLimiterError(seller: seller, operation: operation, reason: "\(error)")
        }
        if let message = value.errorMessage {
            throw RedisRateLimiterError(seller: seller, operation: operation, reason: "script failed: \(message)")
        }
        guard let parts = value.array, parts.count == 3, let kind = parts[0].int, let first = parts[1].int else {
            throw RedisRateLimiterError(seller: seller, operation: operation, reason: "unexpected script reply")
        }
        switch kind {
        case 1:
            let at = parts[2].string.flatMap(Double.init) ?? Double(parts[2].int ?? 0)
            return .granted(sequence: Int64(first), at: at)
        case 0: return .wait(millis: first)
        default: return .done
        }
    }

    static func millis(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}

/// A rate-limit bucket in Redis could not be read or changed (connection lost, script error).
public struct RedisRateLimiterError: Error, Sendable, CustomStringConvertible {
    public let seller: SellerID
    public let operation: String
    public let reason: String

    public var description: String { "rate limit for seller \(seller.rawValue), operation \(operation): \(reason)" }
}

/// First-come first-served line per bucket inside one process: only its head talks to Redis.
actor LocalLine {
    private var busy: Set<String> = []
    private var waiting: [String: [(id: UInt64, continuation: CheckedContinuation<Void, any Error>)]] = [:]
    private var nextID: UInt64 = 0

    /// Returns when the caller is at the head of `key`'s line; throws if cancelled while queued.
    func enter(_ key: String) async throws {
        guard busy.contains(key) else {
            busy.insert(key)
            return
        }
        let id = nextID
        nextID += 1
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                waiting[key, default: []].append((id, continuation))
            }
        } onCancel: {
            Task { await self.abandon(key, id) }
        }
    }

    /// Hands the head position to the next waiter, or frees the line.
    func leave(_ key: String) {
        if var queue = waiting[key], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[key] = queue.isEmpty ? nil : queue
            next.continuation.resume()
        } else {
            busy.remove(key)
        }
    }

    func length(_ key: String) -> Int { (busy.contains(key) ? 1 : 0) + (waiting[key]?.count ?? 0) }

    private func abandon(_ key: String, _ id: UInt64) {
        guard var queue = waiting[key], let index = queue.firstIndex(where: { $0.id == id }) else { return }
        let gone = queue.remove(at: index)
        waiting[key] = queue.isEmpty ? nil : queue
        gone.continuation.resume(throwing: CancellationError())
    }
}
