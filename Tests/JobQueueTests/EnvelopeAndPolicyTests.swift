import Domain
import Foundation
import JobQueue
import Testing

@Suite("Job envelope and retry policy")
struct EnvelopeAndPolicyTests {
    @Test("an envelope survives a round trip through its JSON form")
    func roundTrip() throws {
        let job = JobEnvelope(kind: .fetch, seller: SellerID(rawValue: "A1")!, arguments: ["day": "2026-11-29"], attempt: 2)
        guard case let .success(decoded) = JobEnvelope.decode(job.encoded()) else { Issue.record("did not decode"); return }
        #expect(decoded == job)
    }

    @Test("malformed messages are explained in one line", arguments: [
        ("not json", "malformed job message"),
        (#"{"v":2,"id":"x","kind":"fetch","seller":"A1","enqueued_at":1}"#, "unsupported envelope version 2"),
        (#"{"v":1,"kind":"fetch","seller":"A1","enqueued_at":1}"#, "missing field 'id'"),
        (#"{"v":1,"id":"x","kind":"fetch","seller":"../etc","enqueued_at":1}"#, "invalid seller id"),
    ])
    func malformed(raw: String, expected: String) {
        guard case let .failure(error) = JobEnvelope.decode(raw) else { Issue.record("decoded \(raw)"); return }
        #expect(error.message.contains(expected))
        #expect(!error.message.contains("\n"))
        #expect(!error.retryable)
    }

    @Test("unknown kinds and oversized arguments are refused at enqueue")
    func validation() {
        let seller = SellerID(rawValue: "A1")!
        #expect(throws: JobError.self) { try JobEnvelope(kind: JobKind(rawValue: "nope"), seller: seller).validate() }
        let big = String(repeating: "x", count: 2_000)
        #expect(throws: JobError.self) { try JobEnvelope(kind: .fetch, seller: seller, arguments: ["blob": big]).validate() }
    }

    @Test("backoff doubles per retry, is capped, and is jittered within [d/2, d]")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: 2, maxDelay: 60)
        #expect(policy.delayBounds(forRetry: 1) == 1...2)
        #expect(policy.delayBounds(forRetry: 2) == 2...4)
        #expect(policy.delayBounds(forRetry: 3) == 4...8)
        #expect(policy.delayBounds(forRetry: 20) == 30...60)
        for _ in 0..<100 {
            #expect(policy.delayBounds(forRetry: 3).contains(policy.delay(forRetry: 3)))
        }
    }

    @Test("seller ids that could escape a directory are refused", arguments: ["", "../x", "a/b", "a b", String(repeating: "A", count: 65)])
    func sellerIDs(raw: String) {
        #expect(SellerID(rawValue: raw) == nil)
    }
}

@Suite("Worker over the in-memory queue")
struct InMemoryWorkerTests {
    @Test("a job that keeps failing transiently is retried, then dead-lettered with its error")
    func retriesThenDeadLetters() async throws {
        let queue = InMemoryJobQueue()
        let attempts = Recorder<Int>()
        _ = try await queue.enqueue(JobEnvelope(kind: .fetch, seller: SellerID(rawValue: "S1")!))
        let worker = JobWorker.forTest(queue: queue, retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.05),
                                       handler: RecordingHandler { job in
                                           await attempts.append(job.attempt)
                                           throw JobError.transient("upstream 503")
                                       })
        try await worker.run()
        #expect(await attempts.items == [0, 1, 2])
        let dead = try await queue.deadJobs(limit: 10)
        #expect(dead.count == 1)
        #expect(dead.first?.reason.contains("gave up after 3 attempts: upstream 503") == true)
    }

    @Test("a permanent failure goes straight to the dead-letter stream")
    func permanent() async throws {
        let queue = InMemoryJobQueue()
        let attempts = Recorder<Int>()
        _ = try await queue.enqueue(JobEnvelope(kind: .fetch, seller: SellerID(rawValue: "S1")!))
        try await JobWorker.forTest(queue: queue, handler: RecordingHandler { job in
            await attempts.append(job.attempt)
            throw JobError.permanent("seller unknown")
        }).run()
        #expect(await attempts.count == 1)
        #expect(try await queue.deadJobs(limit: 10).first?.reason == "seller unknown")
        #expect(try await queue.status(kinds: [.fetch]).first?.deadLettered == 1)
        #expect(try await queue.dropDead(ids: try await queue.deadJobs(limit: 10).map(\.deadID)) == 1)
        #expect(try await queue.status(kinds: [.fetch]).first?.deadLettered == 0, "dead counts are of jobs still dead, like Redis'")
    }

    @Test("a malformed message is dead-lettered and the jobs behind it still run")
    func malformedDoesNotBlock() async throws {
        let queue = InMemoryJobQueue()
        await queue.injectRaw("{garbage", kind: .fetch)
        _ = try await queue.enqueue(JobEnvelope(kind: .fetch, seller: SellerID(rawValue: "S1")!))
        let done = Recorder<String>()
        try await JobWorker.forTest(queue: queue, handler: RecordingHandler { await done.append($0.seller.rawValue) }).run()
        #expect(await done.items == ["S1"])
        let dead = try await queue.deadJobs(limit: 10)
        #expect(dead.count == 1)
        #expect(dead.first?.message == "{garbage")
    }

    @Test("two jobs of one seller never overlap; other sellers run meanwhile")
    func exclusivity() async throws {
        let queue = InMemoryJobQueue()
        let running = Recorder<Int>()
        let tracker = ConcurrencyTracker()
        for i in 0..<12 {
            _ = try await queue.enqueue(JobEnvelope(kind: .fetch, seller: SellerID(rawValue: "S\(i % 3)")!))
        }
        try await JobWorker.forTest(queue: queue, concurrency: 6, handler: RecordingHandler { job in
            let overlap = await tracker.enter(job.seller)
            await running.append(overlap)
            try await Task.sleep(for: .milliseconds(20))
            await tracker.leave(job.seller)
        }).run()
        #expect(await running.count == 12)
        #expect(await running.items.allSatisfy { $0 == 1 })
        #expect(await tracker.maxTotal > 1)
    }
}

/// Counts jobs running per seller and in total.
actor ConcurrencyTracker {
    private var perSeller: [SellerID: Int] = [:]
    private var total = 0
    private(set) var maxTotal = 0

    func enter(_ seller: SellerID) -> Int {
        perSeller[seller, default: 0] += 1
        total += 1
        maxTotal = max(maxTotal, total)
        return perSeller[seller]!
    }

    func leave(_ seller: SellerID) {
        perSeller[seller, default: 0] -= 1
        total -= 1
    }
}
