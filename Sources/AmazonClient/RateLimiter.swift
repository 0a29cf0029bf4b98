import Domain
import Foundation

/// One admitted call: hand it back through `RateLimiter.completed` once Amazon answered.
public struct RateLimitGrant: Sendable, Hashable {
    public var seller: SellerID
    public var operation: String
    /// Position of the grant in its bucket's sequence; only the newest grant can tighten the bucket on completion.
    public var sequence: Int64

    public init(seller: SellerID, operation: String, sequence: Int64) {
        self.seller = seller
        self.operation = operation
        self.sequence = sequence
    }
}

/// Admits calls at Amazon's rate per seller and operation; shared implementations (Redis) plug in here.
///
/// Implementations model Amazon's token bucket in GCRA form (one "theoretical arrival time" per bucket). A
/// granted request reaches Amazon some time after the grant, so a token is booked as spent at the latest
/// instant the request can arrive: `grant + allowance`, or the instant Amazon's answer came back when that is
/// earlier (`completed`). The allowance is the configured `arrivalAllowance`, capped for a bucket with burst
/// B ≥ 2 at its slack (B − 1) / rate, so pipelined calls keep the published rate and the slack absorbs arrival
/// jitter up to that much; a burst-1 bucket has no slack, so its next call waits one interval after the
/// previous answer (or allowance), which is what keeps network jitter from causing 429s.
public protocol RateLimiter: Sendable {
    /// Waits until one token of the seller's bucket for `operation` is available and takes it.
    ///
    /// `rate` (tokens per second) and `burst` are Amazon's published defaults; an `adjust`ed rate overrides `rate`.
    @discardableResult
    func acquire(seller: SellerID, operation: String, rate: Double, burst: Int) async throws -> RateLimitGrant
    /// Records that Amazon answered the granted call (any status but 429): its token was spent no later than now.
    func completed(_ grant: RateLimitGrant) async
    /// Applies the rate Amazon reported in `x-amzn-RateLimit-Limit` for this seller and operation.
    func adjust(seller: SellerID, operation: String, rate: Double) async
    /// Records that Amazon throttled anyway: the bucket is emptied so the next callers wait a full interval.
    func penalize(seller: SellerID, operation: String) async
}

/// An in-process token bucket per (seller, operation), admitting callers strictly in arrival order.
///
/// Waiters queue per bucket; only the head may take a token, and it sleeps until the bucket holds one (or a
/// completion or `adjust` wakes it earlier). Hand-written because no package in the mirror offers a FIFO,
/// async, adjustable token bucket; the Redis implementation (`RateLimitRedis`) shares the same arithmetic.
public actor TokenBucketRateLimiter: RateLimiter {
    private struct Bucket {
        /// Real seconds per token (1 / (rate × timeScale)).
        var interval: Double
        var burst: Double
        /// Theoretical arrival time: the bucket is full when `now ≥ tat`; a call is admitted when `now ≥ tat − (burst − 1) × interval`.
        var tat: Double
        var sequence: Int64 = 0
        /// `tat` before the newest grant and that grant's instant, so its completion can re-book its token.
        var tatBeforeLast: Double
        var lastStart: Double
        /// Waiter ids in arrival order; `queue[0]` is the only one allowed to take a token.
        var queue: [UInt64] = []
        var parked: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    }

    private var buckets: [String: Bucket] = [:]
    private var overrides: [String: Double] = [:]
    private var nextWaiter: UInt64 = 0
    private let timeScale: Double
    private let allowance: Double
    private let clock = ContinuousClock()
    private let epoch: ContinuousClock.Instant

    /// - Parameters:
    ///   - timeScale: how much faster than real time the counterpart's clock runs (1 for Amazon; the sandbox's
    ///     `--time-scale` in tests and benchmarks).
    ///   - arrivalAllowance: the longest real time between a grant and the request reaching Amazon (connection
    ///     set-up, one-way latency); not scaled, because network time does not compress with the sandbox clock.
    public init(timeScale: Double = 1, arrivalAllowance: Duration = .seconds(1)) {
        self.timeScale = max(timeScale, 1e-9)
        self.allowance = max(0, Self.seconds(arrivalAllowance))
        self.epoch = clock.now
    }

    @discardableResult
    public func acquire(seller: SellerID, operation: String, rate: Double, burst: Int) async throws -> RateLimitGrant {
        let key = Self.key(seller, operation)
        let id = nextWaiter
        nextWaiter += 1
        let interval = 1 / max((overrides[key] ?? rate) * timeScale, 1e-12)
        if var bucket = buckets[key] {
            bucket.burst = Double(max(burst, 1))
            if bucket.interval != interval { rescale(&bucket, to: interval) }
            bucket.queue.append(id)
            buckets[key] = bucket
        } else {
            let now = elapsed()
            buckets[key] = Bucket(interval: interval, burst: Double(max(burst, 1)), tat: now, tatBeforeLast: now, lastStart: now, queue: [id])
        }
        while true {
            guard let bucket = buckets[key], let position = bucket.queue.firstIndex(of: id) else { throw CancellationError() }
            if Task.isCancelled {
                leave(key, id)
                throw CancellationError()
            }
            let now = elapsed()
            let eligible = bucket.tat - (bucket.burst - 1) * bucket.interval
            if position == 0 && now >= eligible {
                return grant(key, seller: seller, operation: operation, now: now)
            }
            try await park(key, id, until: position == 0 ? eligible : nil)
        }
    }

    public func completed(_ grant: RateLimitGrant) {
        let key = Self.key(grant.seller, grant.operation)
        guard var bucket = buckets[key], bucket.sequence == grant.sequence else { return }
        let arrivedBy = min(bucket.lastStart + allowance(bucket), elapsed())
        let tightened = max(arrivedBy, bucket.tatBeforeLast) + bucket.interval
        guard tightened < bucket.tat else { return }
        bucket.tat = tightened
        buckets[key] = bucket
        wakeHead(key)
    }

    public func adjust(seller: SellerID, operation: String, rate: Double) {
        guard rate > 0, rate.isFinite else { return }
        let key = Self.key(seller, operation)
        overrides[key] = rate
        guard var bucket = buckets[key] else { return }
        rescale(&bucket, to: 1 / (rate * timeScale))
        buckets[key] = bucket
        wakeHead(key)
    }

    public func penalize(seller: SellerID, operation: String) {
        let key = Self.key(seller, operation)
        guard var bucket = buckets[key] else { return }
        bucket.tat = max(bucket.tat, elapsed() + bucket.burst * bucket.interval)
        buckets[key] = bucket
    }

    /// Callers waiting for a token of this bucket (tests use it to line callers up deterministically).
    func lineLength(seller: SellerID, operation: String) -> Int {
        buckets[Self.key(seller, operation)]?.queue.count ?? 0
    }

    // MARK: - Internals

    private func grant(_ key: String, seller: SellerID, operation: String, now: Double) -> RateLimitGrant {
        var bucket = buckets[key]!
        bucket.queue.removeFirst()
        bucket.tatBeforeLast = bucket.tat
        bucket.lastStart = now
        bucket.tat = max(now + allowance(bucket), bucket.tat) + bucket.interval
        bucket.sequence += 1
        buckets[key] = bucket
        wakeHead(key)
        return RateLimitGrant(seller: seller, operation: operation, sequence: bucket.sequence)
    }

    /// The arrival allowance of a bucket: the configured one, capped at the slack of a burst ≥ 2.
    private func allowance(_ bucket: Bucket) -> Double {
        bucket.burst >= 2 ? min(allowance, (bucket.burst - 1) * bucket.interval) : allowance
    }

    /// Keeps the tokens owed (`tat − now`, in tokens) when the interval changes.
    private func rescale(_ bucket: inout Bucket, to interval: Double) {
        let now = elapsed()
        let owed = max(0, bucket.tat - now) / bucket.interval
        bucket.tat = now + owed * interval
        bucket.tatBeforeLast = min(bucket.tatBeforeLast, bucket.tat)
        bucket.interval = interval
    }

    /// Suspends waiter `id` until woken (its turn, a completion, an adjust) or until `deadline` (real seconds since epoch).
    private func park(_ key: String, _ id: UInt64, until deadline: Double?) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                buckets[key]?.parked[id] = continuation
                if let deadline {
                    let instant = epoch.advanced(by: .seconds(deadline))
                    Task { [clock] in
                        try? await Task.sleep(until: instant, clock: clock)
                        self.wake(key, id)
                    }
                }
            }
        } onCancel: {
            Task { await self.leave(key, id) }
        }
    }

    private func wake(_ key: String, _ id: UInt64) {
        buckets[key]?.parked.removeValue(forKey: id)?.resume()
    }

    private func wakeHead(_ key: String) {
        guard let head = buckets[key]?.queue.first else { return }
        wake(key, head)
    }

    /// Removes a cancelled waiter; if it was the head, the next waiter takes its place.
    private func leave(_ key: String, _ id: UInt64) {
        guard var bucket = buckets[key], let index = bucket.queue.firstIndex(of: id) else { return }
        bucket.queue.remove(at: index)
        let continuation = bucket.parked.removeValue(forKey: id)
        buckets[key] = bucket
        continuation?.resume(throwing: CancellationError())
        if index == 0 { wakeHead(key) }
    }

    private func elapsed() -> Double { Self.seconds(clock.now - epoch) }

    private static func key(_ seller: SellerID, _ operation: String) -> String { "\(seller.rawValue)|\(operation)" }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
