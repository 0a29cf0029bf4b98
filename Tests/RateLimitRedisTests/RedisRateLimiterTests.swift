import AmazonClient
import Domain
import Foundation
import JobQueueRedis
import PipelineTesting
import Redis
import Testing
@testable import RateLimitRedis

/// The Redis token bucket against a real redis-server (`SharedRedis`: `OPTMAZON_TEST_REDIS_URL` or a server
/// started on a free loopback port). Counts are checked against Redis' own clock, so no assertion depends on
/// how fast this machine happens to be.
@Suite("Redis rate limiter")
struct RedisRateLimiterTests {
    let seller = SellerID(rawValue: "A1RATELIMIT")!

    /// A limiter as a separate process would have it: its own connection, same key space.
    func limiter(_ prefix: String, timeScale: Double = 1, idle: Duration = .seconds(3600)) async throws -> RedisRateLimiter {
        let client = RedisClient(endpoint: try await SharedRedis.endpoint(), label: "ratelimit-test")
        return RedisRateLimiter(client: client, keys: RedisKeys(prefix: prefix), timeScale: timeScale,
                                arrivalAllowance: .milliseconds(5), idleExpiry: idle)
    }

    func admin() async throws -> RedisClient {
        RedisClient(endpoint: try await SharedRedis.endpoint(), label: "ratelimit-admin")
    }

    /// The most grants any window `[g_i, g_j]` of the sorted grant times holds beyond what the bucket allows.
    static func worstExcess(_ times: [Double], rate: Double, burst: Int) -> Double {
        let sorted = times.sorted()
        var worst = -Double.infinity
        for i in sorted.indices {
            for j in i..<sorted.count {
                let allowed = Double(burst) + rate * (sorted[j] - sorted[i]) / 1000
                worst = max(worst, Double(j - i + 1) - allowed)
            }
        }
        return worst
    }

    @Test("Two limiters sharing one bucket never grant more than burst + rate × t in any window")
    func sharedBucketNeverExceedsRate() async throws {
        let prefix = SharedRedis.uniquePrefix()
        defer { Task { try? await SharedRedis.deleteKeys(prefix: prefix) } }
        let first = try await limiter(prefix)
        let second = try await limiter(prefix)
        let rate = 40.0, burst = 5, perWorker = 10, workers = 3
        let times = try await withThrowingTaskGroup(of: [Double].self) { group in
            for limiter in [first, second] {
                for _ in 0..<workers {
                    group.addTask {
                        var mine: [Double] = []
                        for _ in 0..<perWorker {
                            mine.append(try await limiter.acquireTimed(seller: seller, operation: "getListingsItem", rate: rate, burst: burst).redisMillis)
                        }
                        return mine
                    }
                }
            }
            return try await group.reduce(into: [Double]()) { $0 += $1 }
        }
        #expect(times.count == 2 * workers * perWorker)
        // Beyond the burst, each grant needs 1/rate of Redis time: 60 grants span at least (60 − 5) / 40 s.
        let span = (times.max()! - times.min()!) / 1000
        #expect(span >= Double(times.count - burst) / rate - 0.001)
        #expect(Self.worstExcess(times, rate: rate, burst: burst) <= 1e-3)
    }

    @Test("Grants carry increasing sequence numbers across both limiters")
    func sequenceIsShared() async throws {
        let prefix = SharedRedis.uniquePrefix()
        defer { Task { try? await SharedRedis.deleteKeys(prefix: prefix) } }
        let first = try await limiter(prefix)
        let second = try await limiter(prefix)
        var sequences: [Int64] = []
        for i in 0..<6 {
            let l = i.isMultiple(of: 2) ? first : second
            sequences.append(try await l.acquire(seller: seller, operation: "getCatalogItem", rate: 100, burst: 10).sequence)
        }
        #expect(sequences == [1, 2, 3, 4, 5, 6])
    }

    @Test("adjust lowers the stored rate, and the bucket then paces at it")
    func adjustLowersRate() async throws {
        let prefix = SharedRedis.uniquePrefix()
        defer { Task { try? await SharedRedis.deleteKeys(prefix: prefix) } }
        let first = try await limiter(prefix)
        let second = try await limiter(prefix)
        _ = try await first.acquire(seller: seller, operation: "getItemOffersBatch", rate: 1000, burst: 1)
        await second.adjust(seller: seller, operation: "getItemOffersBatch", rate: 10)
        let stored = try await admin().send(["HGET", first.key(seller: seller, operation: "getItemOffersBatch"), "rate"])
        #expect(stored.string.flatMap(Double.init) == 10)
        var times: [Double] = []
        for i in 0..<6 {
            let l = i.isMultiple(of: 2) ? first : second
            times.append(try await l.acquireTimed(seller: seller, operation: "getItemOffersBatch", rate: 1000, burst: 1).redisMillis)
        }
        // At the adjusted 10/s, six grants with a burst of 1 span at least 0.5 s of Redis time (1000/s would need 5 ms).
        #expect((times.last! - times.first!) / 1000 >= 0.5 - 0.001)
        #expect(Self.worstExcess(times, rate: 10, burst: 1) <= 1e-3)
    }

    @Test("adjust raises the rate for every limiter sharing the bucket")
    func adjustRaisesRate() async throws {
        let prefix = SharedRedis.uniquePrefix()
        defer { Task { try? await SharedRedis.deleteKeys(prefix: prefix) } }
        let first = try await limiter(prefix)
        let second = try await limiter(prefix)
        // Published 0.001/s: without the adjustment the second grant would come after 1000 s.
        _ = try await first.acquire(seller: seller, operation: "createReport", rate: 0.001, burst: 1)
        await first.adjust(seller: seller, operation: "createReport", rate: 1000)
        let granted = OrderLog()
        let more = Task {
            for i in 0..<5 {
                _ = try await second.acquire(seller: seller, operation: "createReport", rate: 0.001, burst: 1)
                await granted.append(i)
            }
        }
        defer { more.cancel() }
        try await eventually("five more grants at the adjusted rate", timeout: 60) { await granted.values.count == 5 }
    }

    @Test("penalize empties the bucket: the next grant waits a full interval of Redis time")
    func penalizeEmptiesBucket() async throws {
        let prefix = SharedRedis.uniquePrefix()
        defer { Task { try? await SharedRedis.deleteKeys(prefix: prefix) } }
        let first = try await limiter(prefix)
        let second = try await limiter(prefix)
        let before = try await first.acquireTimed(seller: seller, operation: "getReport", rate: 5, burst: 15).redisMillis
        await second.penalize(seller: seller, operation: "getReport")
        let after = try await second.acquireTimed(seller: seller, operation: "getReport", rate: 5, burst: 15).redisMillis
        // 14 tokens were left; after the 429 none are, so the next one takes 1/5 s to refill.
        #expect(after - before >= 200 - 1)
    }

    @Test("Bucket keys carry the configured prefix and the seller's shard tag, and expire when idle")
    func keysArePrefixedAndExpire() async throws {
        let prefix = SharedRedis.uniquePrefix()
        defer { Task { try? await SharedRedis.deleteKeys(prefix: prefix) } }
        // Idle expiry of 3 s: long enough that a loaded machine still finds the key before it expires.
        let limiter = try await limiter(prefix, idle: .seconds(3))
        _ = try await limiter.acquire(seller: seller, operation: "getListingsItem", rate: 5, burst: 10)
        let key = limiter.key(seller: seller, operation: "getListingsItem")
        #expect(key == RedisKeys(prefix: prefix).rateLimit(seller, operation: "getListingsItem"))
        #expect(key.hasPrefix("{\(prefix):0}:ratelimit:"))
        let redis = try await admin()
        var found: [String] = []
        var cursor = "0"
        repeat {
            let scan = try await redis.send(["SCAN", cursor, "MATCH", "{\(prefix):*", "COUNT", "1000"])
            cursor = scan.array?[0].string ?? "0"
            found += scan.array?[1].array?.compactMap(\.string) ?? []
        } while cursor != "0"
        #expect(found == [key])
        let ttl = try await redis.send(["PTTL", key]).int ?? -2
        #expect(ttl > 0 && ttl <= 3000 + 1000, "expires after the idle time plus the bucket's refill time: \(ttl) ms")
        try await eventually("the idle bucket key expires", timeout: 30) {
            try await redis.send(["EXISTS", key]).int == 0
        }
    }

    @Test("Within one limiter, waiters are granted in the order they asked")
    func localOrderIsFirstComeFirstServed() async throws {
        let prefix = SharedRedis.uniquePrefix()
        defer { Task { try? await SharedRedis.deleteKeys(prefix: prefix) } }
        let limiter = try await limiter(prefix)
        _ = try await limiter.acquire(seller: seller, operation: "getCompetitivePricing", rate: 10, burst: 1)
        let order = OrderLog()
        var tasks: [Task<Void, any Error>] = []
        for i in 0..<5 {
            tasks.append(Task {
                _ = try await limiter.acquire(seller: seller, operation: "getCompetitivePricing", rate: 10, burst: 1)
                await order.append(i)
            })
            // Waiter i is in line (or already served) before waiter i + 1 asks.
            let key = limiter.key(seller: seller, operation: "getCompetitivePricing")
            try await eventually("waiter \(i) is in line", timeout: 30) { await limiter.lineLength(key) + order.values.count >= i + 1 }
        }
        for task in tasks { try await task.value }
        #expect(await order.values == [0, 1, 2, 3, 4])
    }
}

actor OrderLog {
    private(set) var values: [Int] = []
    func append(_ value: Int) { values.append(value) }
}
