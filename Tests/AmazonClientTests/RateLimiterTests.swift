@testable import AmazonClient
import Domain
import Foundation
import Testing

/// The in-process token bucket: order, completion anchoring, the arrival allowance and 429 penalties.
/// Assertions are lower bounds (a bucket may never admit early) or conditions reached within generous deadlines.
@Suite("In-process rate limiter")
struct RateLimiterTests {
    let seller = SellerID(rawValue: "A1LIMITER")!

    actor Log {
        private(set) var values: [Int] = []
        func append(_ value: Int) { values.append(value) }
    }

    /// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
    func waitUntil(_ timeout: Double, _ condition: () async -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(timeout))
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return await condition()
    }

    @Test("A burst-1 bucket admits the next call one interval after the previous answer, not after the allowance")
    func completionAnchorsBurstOne() async throws {
        let limiter = TokenBucketRateLimiter(timeScale: 1, arrivalAllowance: .seconds(120))
        let first = try await limiter.acquire(seller: seller, operation: "getItemOffersBatch", rate: 10, burst: 1)
        let answered = ContinuousClock.now
        await limiter.completed(first)
        let log = Log()
        let next = Task {
            try await limiter.acquire(seller: seller, operation: "getItemOffersBatch", rate: 10, burst: 1)
            await log.append(1)
        }
        defer { next.cancel() }
        // Without the completion the second grant would wait the 120 s allowance.
        #expect(try await waitUntil(60) { await log.values == [1] })
        #expect(ContinuousClock.now - answered >= .milliseconds(99))
    }

    @Test("Without an answer, a burst-1 bucket books the token until the allowance has passed")
    func allowanceWithoutAnswer() async throws {
        let limiter = TokenBucketRateLimiter(timeScale: 1, arrivalAllowance: .milliseconds(300))
        let start = ContinuousClock.now
        try await limiter.acquire(seller: seller, operation: "getCompetitivePricing", rate: 1000, burst: 1)
        try await limiter.acquire(seller: seller, operation: "getCompetitivePricing", rate: 1000, burst: 1)
        #expect(ContinuousClock.now - start >= .milliseconds(300))
    }

    @Test("Waiters are admitted in the order they asked; a cancelled waiter leaves the line")
    func fifoWithCancellation() async throws {
        let limiter = TokenBucketRateLimiter(timeScale: 1, arrivalAllowance: .zero)
        try await limiter.acquire(seller: seller, operation: "getCatalogItem", rate: 5, burst: 1)
        let log = Log()
        var tasks: [Task<Void, any Error>] = []
        for i in 0..<5 {
            tasks.append(Task {
                try await limiter.acquire(seller: seller, operation: "getCatalogItem", rate: 5, burst: 1)
                await log.append(i)
            })
            // Waiter i is in line (or already admitted) before waiter i + 1 asks.
            #expect(try await waitUntil(60) {
                await limiter.lineLength(seller: seller, operation: "getCatalogItem") + log.values.count >= i + 1
            })
        }
        tasks[2].cancel()
        for (i, task) in tasks.enumerated() where i != 2 { try await task.value }
        let cancelled = await tasks[2].result
        let values = await log.values
        // Waiter 2 may have been admitted before its cancellation landed; everyone else keeps the order.
        #expect(values.filter { $0 != 2 } == [0, 1, 3, 4])
        if case .failure = cancelled { #expect(!values.contains(2)) }
    }

    @Test("penalize empties the bucket: after a 429 the next call waits a full interval")
    func penalizeWaitsInterval() async throws {
        let limiter = TokenBucketRateLimiter(timeScale: 1, arrivalAllowance: .zero)
        try await limiter.acquire(seller: seller, operation: "getReport", rate: 5, burst: 15)
        await limiter.penalize(seller: seller, operation: "getReport")
        let penalized = ContinuousClock.now
        try await limiter.acquire(seller: seller, operation: "getReport", rate: 5, burst: 15)
        #expect(ContinuousClock.now - penalized >= .milliseconds(199))
    }

    @Test("timeScale compresses the interval: rate 0.5 at 100x admits a call every 20 ms")
    func timeScaleCompresses() async throws {
        let limiter = TokenBucketRateLimiter(timeScale: 100, arrivalAllowance: .zero)
        let start = ContinuousClock.now
        for _ in 0..<6 { try await limiter.acquire(seller: seller, operation: "getCompetitivePricing", rate: 0.5, burst: 1) }
        // Five intervals of 1 / (0.5 × 100) s after the first grant.
        #expect(ContinuousClock.now - start >= .milliseconds(99))
    }
}
