import Domain
import Foundation
import JobQueue
import JobQueueRedis
import PipelineTesting
import Redis
import Testing

@Suite("Redis Streams queue (real redis-server)")
struct RedisQueueTests {
    @Test("a completed job is acknowledged and deleted, so the stream does not grow")
    func completedJobsAreTrimmed() async throws {
        let f = try await QueueFixture()
        for i in 0..<50 { try await f.enqueue(seller: "S\(i)") }
        let done = Recorder<String>()
        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { await done.append($0.id) }).run()
        #expect(await done.count == 50)
        let status = try #require(try await f.queue.status(kinds: [.fetch]).first)
        #expect(status.streamLength == 0)
        #expect(status.pending == 0)
        #expect(status.processed == 50)
        try await f.cleanup()
    }

    @Test("retries wait an exponentially growing, jittered delay")
    func retryTiming() async throws {
        let f = try await QueueFixture()
        try await f.enqueue()
        let times = Recorder<Date>()
        let policy = RetryPolicy(maxAttempts: 4, baseDelay: 0.4, maxDelay: 10)
        try await JobWorker.forTest(queue: f.queue, retry: policy, handler: RecordingHandler { job in
            await times.append(Date())
            if job.attempt < 3 { throw JobError.transient("try again") }
        }).run()
        let t = await times.items
        #expect(t.count == 4)
        for retry in 1...3 {
            let gap = t[retry].timeIntervalSince(t[retry - 1])
            let bounds = policy.delayBounds(forRetry: retry)
            // Never early; late by at most the promotion cadence plus generous slack for a loaded 2-core machine.
            #expect(gap >= bounds.lowerBound - 0.01, "retry \(retry) came after \(gap)s, expected at least \(bounds.lowerBound)s")
            #expect(gap <= bounds.upperBound + 10.0, "retry \(retry) came after \(gap)s, expected at most \(bounds.upperBound)s + slack")
        }
        try await f.cleanup()
    }

    @Test("a job past its attempt limit lands in the dead-letter stream with its error, and can be retried or dropped")
    func deadLetterLifecycle() async throws {
        let f = try await QueueFixture()
        let jobID = try await f.enqueue(seller: "DL1")
        try await JobWorker.forTest(queue: f.queue, retry: RetryPolicy(maxAttempts: 2, baseDelay: 0.05, maxDelay: 0.1),
                                    handler: RecordingHandler { _ in throw JobError.transient("SP-API answered 503") }).run()
        var dead = try await f.queue.deadJobs(limit: 10)
        #expect(dead.count == 1)
        #expect(dead[0].jobID == jobID)
        #expect(dead[0].seller == "DL1")
        #expect(dead[0].reason == "gave up after 2 attempts: SP-API answered 503")

        #expect(try await f.queue.retryDead(ids: [dead[0].deadID]) == 1)
        let seen = Recorder<Int>()
        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { await seen.append($0.attempt) }).run()
        #expect(await seen.items == [0], "a retried dead job starts again with a fresh attempt count")
        #expect(try await f.queue.deadJobs(limit: 10).isEmpty)

        try await f.enqueue(seller: "DL2", args: ["x": "1"])
        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { _ in throw JobError.permanent("bad") }).run()
        dead = try await f.queue.deadJobs(limit: 10)
        #expect(try await f.queue.dropDead(ids: dead.map(\.deadID)) == 1)
        #expect(try await f.queue.deadJobs(limit: 10).isEmpty)
        try await f.cleanup()
    }

    @Test("the dead-letter stream is capped")
    func deadLetterCap() async throws {
        let f = try await QueueFixture(deadLetterCap: 10)
        for i in 0..<25 { try await f.enqueue(seller: "C\(i)") }
        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { _ in throw JobError.permanent("nope") }).run()
        #expect(try await f.queue.deadJobs(limit: 100).count == 10)
        try await f.cleanup()
    }

    @Test("malformed, unknown-kind and future-version messages are dead-lettered with the reason; the stream keeps flowing")
    func malformedMessages() async throws {
        let f = try await QueueFixture()
        try await f.queue.prepare(kinds: [.fetch])
        let stream = f.keys.stream(.fetch)
        _ = try await f.redis.send(["XADD", stream, "*", "job", "{not json"])
        _ = try await f.redis.send(["XADD", stream, "*", "job", #"{"v":9,"id":"x","kind":"fetch","seller":"A","enqueued_at":1}"#])
        _ = try await f.redis.send(["XADD", stream, "*", "job", #"{"v":1,"id":"y","kind":"teleport","seller":"A","enqueued_at":1}"#])
        _ = try await f.redis.send(["XADD", stream, "*", "other", "field"])
        try await f.enqueue(seller: "GOOD")
        let done = Recorder<String>()
        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { await done.append($0.seller.rawValue) }).run()
        #expect(await done.items == ["GOOD"])
        let reasons = try await f.queue.deadJobs(limit: 10).map(\.reason)
        #expect(reasons.count == 4)
        #expect(reasons[0].hasPrefix("malformed job message"))
        #expect(reasons[1].contains("unsupported envelope version 9"))
        #expect(reasons[2].contains("teleport"))
        #expect(reasons[3].hasPrefix("malformed job message"))
        try await f.cleanup()
    }

    @Test("the same unique key is enqueued once even by two enqueuers racing on separate connections")
    func uniqueUnderConcurrency() async throws {
        let f = try await QueueFixture()
        let otherQueue = RedisJobQueue(endpoint: f.endpoint, keys: f.keys, logger: .init(label: "other"))
        let results = try await withThrowingTaskGroup(of: EnqueueResult.self) { group in
            for i in 0..<40 {
                let q: RedisJobQueue = i.isMultiple(of: 2) ? f.queue : otherQueue
                group.addTask {
                    try await q.enqueue(JobEnvelope(kind: .fetch, seller: SellerID(rawValue: "U1")!),
                                        at: nil, uniqueKey: "fetch:U1:2026-11-29", uniqueFor: 3600)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { if case .enqueued = $0 { true } else { false } }.count == 1)
        #expect(try await f.queue.status(kinds: [.fetch]).first?.streamLength == 1)
        try await f.cleanup()
    }

    @Test("a delayed job runs at its time, not before")
    func delayedEnqueue() async throws {
        let f = try await QueueFixture()
        let due = Date().addingTimeInterval(1.0)
        _ = try await f.queue.enqueue(JobEnvelope(kind: .fetch, seller: SellerID(rawValue: "D1")!), at: due, uniqueKey: nil, uniqueFor: 0)
        #expect(try await f.queue.status(kinds: [.fetch]).first?.delayed == 1)
        let ranAt = Recorder<Date>()
        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { _ in await ranAt.append(Date()) }).run()
        let ran = try #require(await ranAt.items.first)
        #expect(ran >= due.addingTimeInterval(-0.05))
        try await f.cleanup()
    }

    @Test("a seller with a huge backlog does not starve the others")
    func fairness() async throws {
        let f = try await QueueFixture()
        for _ in 0..<100 { try await f.enqueue(seller: "BIG") }
        for i in 0..<8 { try await f.enqueue(seller: "SMALL\(i)") }
        let order = Recorder<String>()
        try await JobWorker.forTest(queue: f.queue, concurrency: 4, handler: RecordingHandler { job in
            await order.append(job.seller.rawValue)
            try await Task.sleep(for: .milliseconds(10))
        }).run()
        let sequence = await order.items
        #expect(sequence.count == 108)
        let lastSmall = try #require(sequence.lastIndex { $0.hasPrefix("SMALL") })
        let bigBefore = sequence[..<lastSmall].filter { $0 == "BIG" }.count
        #expect(bigBefore < 50, "all small sellers finished after only \(bigBefore) of BIG's 100 jobs")
        try await f.cleanup()
    }

    @Test("dropping a seller's jobs removes its queued and delayed jobs only")
    func dropSellerJobs() async throws {
        let f = try await QueueFixture()
        try await f.enqueue(seller: "GONE")
        try await f.enqueue(seller: "STAYS")
        _ = try await f.queue.enqueue(JobEnvelope(kind: .fetch, seller: SellerID(rawValue: "GONE")!), at: Date().addingTimeInterval(3600), uniqueKey: nil, uniqueFor: 0)
        try await f.queue.prepare(kinds: [.fetch])
        #expect(try await f.queue.dropJobs(of: SellerID(rawValue: "GONE")!, kinds: [.fetch]) == 2)
        let done = Recorder<String>()
        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { await done.append($0.seller.rawValue) }).run()
        #expect(await done.items == ["STAYS"])
        try await f.cleanup()
    }

    @Test("every key carries the configured prefix and shard hash tag")
    func keyLayout() async throws {
        let f = try await QueueFixture()
        try await f.enqueue()
        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { _ in }).run()
        let keys = try await f.redis.send(["KEYS", "*\(f.prefix)*"]).array?.compactMap(\.string) ?? []
        #expect(!keys.isEmpty)
        #expect(keys.allSatisfy { $0.hasPrefix("{\(f.prefix):0}:") })
        let sharded = RedisKeys(prefix: "p", shard: 0, shardCount: 8)
        let routed = sharded.routed(to: SellerID(rawValue: "A1B2")!)
        #expect(routed.shard == RedisKeys.shard(of: SellerID(rawValue: "A1B2")!, count: 8))
        #expect(routed.stream(.fetch) == "{p:\(routed.shard)}:stream:fetch")
        try await f.cleanup()
    }
}

@Suite("Queue metrics in Redis")
struct QueueMetricsTests {
    @Test("each settled job lands in exactly one latency bucket, with its sum and count")
    func latencyHistogram() async throws {
        let f = try await QueueFixture()
        for i in 0..<5 { try await f.enqueue(seller: "M\(i)") }
        try await JobWorker.forTest(queue: f.queue, handler: RecordingHandler { _ in }).run()
        let hash = try await f.redis.send(["HGETALL", f.keys.latency(.fetch)]).array?.compactMap(\.string) ?? []
        var fields: [String: Int] = [:]
        for i in stride(from: 0, to: hash.count - 1, by: 2) { fields[hash[i]] = Int(hash[i + 1]) }
        #expect(fields["count"] == 5)
        #expect(fields.filter { $0.key.hasPrefix("le_") }.values.reduce(0, +) == 5)
        #expect(fields["sum_ms"] != nil)
        #expect(RedisKeys.latencyField(seconds: 0.05) == "le_0.1")
        #expect(RedisKeys.latencyField(seconds: 3) == "le_5")
        #expect(RedisKeys.latencyField(seconds: 5_000) == "le_inf")
        try await f.cleanup()
    }
}
