import Domain
import Foundation
import JobQueue
import JobQueueRedis
import PipelineTesting
import Redis
import Synchronization
import Testing

/// The batched Redis operations (one script call per batch) keep the per-job semantics.
@Suite("Batched queue operations (real redis-server)")
struct BatchedQueueTests {
    @Test("one lock call takes free sellers, reports busy ones with their remaining time, and re-takes a lock for its own token")
    func lockBatch() async throws {
        let f = try await QueueFixture()
        let a = SellerID(rawValue: "LA")!, b = SellerID(rawValue: "LB")!
        let first = try await f.queue.lockSellers([(a, "t1"), (b, "t2"), (a, "t3")], ttl: 30)
        #expect(first.map(\.kind) == [.acquired, .acquired, .busy(retryAfter: 30)])
        let again = try await f.queue.lockSellers([(a, "t1"), (b, "other")], ttl: 30)
        #expect(again[0] == .acquired, "the holder's own token takes its lock again")
        guard case let .busy(retryAfter) = again[1] else { Issue.record("\(again[1])"); return }
        #expect(retryAfter > 0 && retryAfter <= 30)
        try await f.cleanup()
    }

    @Test("settling releases only the locks its tokens hold, and hands a parked job to its stream")
    func unlockInSettle() async throws {
        let f = try await QueueFixture()
        let seller = SellerID(rawValue: "UL1")!
        try await f.queue.prepare(kinds: [.fetch])
        #expect(try await f.queue.lockSellers([(seller, "holder")], ttl: 30) == [.acquired])
        try await f.queue.settle([], unlocking: [(seller, "impostor")])
        #expect(try await f.redis.send(["GET", f.keys.lock(seller)]).string == "holder", "a foreign token leaves the lock alone")

        // A job of the busy seller is read and parked behind the lock.
        let parked = try await f.enqueue(seller: seller.rawValue)
        let delivery = try #require(try await f.queue.dequeue(kinds: [.fetch], consumer: "c1", max: 10, wait: 0).first)
        var next = try #require(delivery.envelope)
        next.deferrals += 1
        try await f.queue.settle([.deferred(delivery, next: next, at: Date())], unlocking: [])
        #expect(try await f.queue.status(kinds: [.fetch]).first?.streamLength == 0, "parked, not in the stream")

        try await f.queue.settle([], unlocking: [(seller, "holder")])
        #expect(try await f.redis.send(["EXISTS", f.keys.lock(seller)]).int == 0)
        let handedOver = try await f.queue.dequeue(kinds: [.fetch], consumer: "c1", max: 10, wait: 0)
        #expect(handedOver.map { $0.envelope?.id } == [parked])
        #expect(handedOver.first?.envelope?.deferrals == 1)
        #expect(try await f.redis.send(["SCARD", f.keys.waitingSellers]).int == 0)
        try await f.cleanup()
    }

    @Test("one settle call acknowledges completed jobs of several kinds, counts them and fills the latency histogram")
    func settleBatch() async throws {
        let f = try await QueueFixture()
        let kinds: [JobKind] = [.fetch, .analyze]
        try await f.queue.prepare(kinds: kinds)
        for i in 0..<30 { try await f.enqueue(kinds[i % 2], seller: "SB\(i)") }
        let deliveries = try await f.queue.dequeue(kinds: kinds, consumer: "c1", max: 100, wait: 0)
        #expect(deliveries.count == 30)
        try await f.queue.settle(deliveries.map { .completed($0) }, unlocking: [])
        for status in try await f.queue.status(kinds: kinds) {
            #expect(status.streamLength == 0 && status.pending == 0 && status.processed == 15, "\(status)")
        }
        #expect(try await f.hashInt(f.keys.latency(.analyze), "count") == 15)
        try await f.cleanup()
    }

    @Test("a batch mixing plain, delayed and unique jobs keeps its order and reports duplicates")
    func mixedEnqueueBatch() async throws {
        let f = try await QueueFixture()
        let seller = SellerID(rawValue: "MIX1")!
        let jobs = (0..<6).map { JobEnvelope(id: "job\($0)", kind: .fetch, seller: seller) }
        let results = try await f.queue.enqueue(batch: [
            EnqueueRequest(jobs[0]),
            EnqueueRequest(jobs[1], uniqueKey: "k1", uniqueFor: 60),
            EnqueueRequest(jobs[2], uniqueKey: "k1", uniqueFor: 60),
            EnqueueRequest(jobs[3], at: Date().addingTimeInterval(3600)),
            EnqueueRequest(jobs[4], at: Date().addingTimeInterval(-5)),
            EnqueueRequest(jobs[5]),
        ])
        #expect(results == [.enqueued(id: "job0"), .enqueued(id: "job1"), .duplicate(uniqueKey: "k1"), .enqueued(id: "job3"),
                            .enqueued(id: "job4"), .enqueued(id: "job5")])
        let entries = try await f.redis.send(["XRANGE", f.keys.stream(.fetch), "-", "+"]).array ?? []
        let ids = entries.compactMap { entry -> String? in
            guard let fields = entry.array?.last?.array, let json = fields.last?.string,
                  case let .success(envelope) = JobEnvelope.decode(json) else { return nil }
            return envelope.id
        }
        #expect(ids == ["job0", "job1", "job4", "job5"])
        #expect(try await f.queue.status(kinds: [.fetch]).first?.delayed == 1)
        try await f.cleanup()
    }

    @Test("status counts dead jobs per kind from counters kept through dead-lettering, cap trimming, retry and drop")
    func deadCounters() async throws {
        let f = try await QueueFixture(deadLetterCap: 10)
        let kinds: [JobKind] = [.fetch, .analyze]
        func dead() async throws -> [Int] { try await f.queue.status(kinds: kinds).map(\.deadLettered) }
        func fail(_ kind: JobKind, count: Int, from start: Int) async throws {
            for i in start..<(start + count) { try await f.enqueue(kind, seller: "DC\(i)") }
            try await JobWorker.forTest(queue: f.queue, kinds: [kind], handler: RecordingHandler { _ in throw JobError.permanent("no") }).run()
        }
        try await fail(.fetch, count: 4, from: 0)
        try await fail(.analyze, count: 3, from: 100)
        #expect(try await dead() == [4, 3])

        // Eight more analyze failures overflow the cap of 10: the four oldest fetch entries and one analyze go.
        try await fail(.analyze, count: 8, from: 200)
        #expect(try await f.queue.deadJobs(limit: 100).count == 10)
        #expect(try await dead() == [0, 10])

        let entries = try await f.queue.deadJobs(limit: 100)
        #expect(try await f.queue.retryDead(ids: [entries[0].deadID]) == 1)
        #expect(try await f.queue.dropDead(ids: entries[1...3].map(\.deadID) + ["0-1", "not-an-id"]) == 3)
        #expect(try await dead() == [0, 6])
        #expect(try await f.queue.dropDead(ids: [entries[1].deadID]) == 0, "dropping twice counts once")
        #expect(try await dead() == [0, 6])
        try await f.cleanup()
    }

    @Test("dead counters are rebuilt once from a dead-letter stream written without them")
    func deadCountersRebuilt() async throws {
        let f = try await QueueFixture()
        for i in 0..<3 { try await f.enqueue(.fetch, seller: "RB\(i)") }
        try await f.enqueue(.wipe, seller: "RBW")
        try await JobWorker.forTest(queue: f.queue, kinds: [.fetch, .wipe], handler: RecordingHandler { _ in throw JobError.permanent("no") }).run()
        _ = try await f.redis.send(["DEL", f.keys.deadCounts])
        #expect(try await f.queue.status(kinds: [.fetch, .wipe, .analyze]).map(\.deadLettered) == [3, 1, 0])
        #expect(try await f.redis.send(["HGET", f.keys.deadCounts, "fetch"]).int == 3, "the counters are kept from now on")
        try await f.cleanup()
    }

    @Test("scripts still run after the server flushed its script cache under a live connection")
    func scriptCacheFlushed() async throws {
        let f = try await QueueFixture()
        try await f.queue.prepare(kinds: [.fetch])
        for i in 0..<3 { try await f.enqueue(seller: "FL\(i)") }
        let deliveries = try await f.queue.dequeue(kinds: [.fetch], consumer: "c1", max: 10, wait: 0)
        let locks = deliveries.map { ($0.envelope!.seller, "token-\($0.receipt)") }
        #expect(try await f.queue.lockSellers(locks, ttl: 30) == [.acquired, .acquired, .acquired])
        try await f.queue.settle([], unlocking: [])
        _ = try await f.redis.send(["SCRIPT", "FLUSH"])
        try await f.queue.settle(deliveries.map { .completed($0) }, unlocking: locks)
        let status = try #require(try await f.queue.status(kinds: [.fetch]).first)
        #expect(status.processed == 3 && status.streamLength == 0 && status.pending == 0, "\(status)")
        for (seller, _) in locks { #expect(try await f.redis.send(["EXISTS", f.keys.lock(seller)]).int == 0) }
        try await f.cleanup()
    }

    @Test("a worker runs up to its concurrency of slow jobs at once, never more")
    func concurrencyIsReachedAndBounded() async throws {
        let f = try await QueueFixture()
        for i in 0..<24 { try await f.enqueue(seller: "CC\(i)") }
        let running = Mutex((now: 0, most: 0))
        try await JobWorker.forTest(queue: f.queue, concurrency: 6, handler: RecordingHandler { _ in
            running.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            try await Task.sleep(for: .milliseconds(100))
            running.withLock { $0.now -= 1 }
        }).run()
        #expect(running.withLock { $0.most } == 6)
        #expect(try await f.queue.status(kinds: [.fetch]).first?.processed == 24)
        try await f.cleanup()
    }
}

extension LockResult {
    /// The result without its timing, to compare busy results whose remaining time varies.
    var kind: LockResult {
        if case .busy = self { return .busy(retryAfter: 30) }
        return self
    }
}
