import AmazonClient
import Domain
import Fetching
import Foundation
import JobQueue
import JobQueueRedis
import Logging
import PipelineTesting
import Redis
import Sandbox
import SellerStore
import Testing

@Suite("Fetch jobs", .serialized)
struct FetchJobTests {
    @Test("A whole fetch, run by a real worker on the Redis queue, stores every data set and enqueues one analyze job")
    func wholeFetch() async throws {
        try await withFetchFixture { f in
            let queue = try await f.redisQueue()
            try await enqueueFetch(queue, seller: f.seller, run: "nightly-1")
            var logger = Logger(label: "worker")
            logger.logLevel = .critical
            var configuration = WorkerConfiguration(kinds: JobKind.fetcherKinds, concurrency: 4, blockSeconds: 0.1, visibilityTimeout: 60,
                                                    shutdownGrace: 5, burst: true, burstHorizon: 10)
            // Both JobQueue and AmazonClient export a `RetryPolicy`; adjusting fields avoids naming either.
            configuration.retry.maxAttempts = 3
            configuration.retry.baseDelay = 0.05
            configuration.retry.maxDelay = 0.5
            // A burst worker stops when nothing is due; jobs parked behind the seller's lock are not "due", so
            // run burst workers until the run's analyze job appears.
            try await eventually("the run's analyze job is enqueued", timeout: 120) {
                try await JobWorker(queue: queue, handler: f.router, configuration: configuration, logger: logger).run()
                return try await queued(queue, .analyze) >= 1
            }

            #expect(try await queue.deadJobs(limit: 10).map(\.reason) == [])
            let counts = try await f.counts()
            let world = f.sandbox.server.world
            #expect(counts["listing"] == world.skus(of: world.sellers[0]).count)
            for table in ["offer", "traffic", "sqp", "campaign", "adGroup", "target", "metric", "searchTerm"] {
                #expect((counts[table] ?? 0) > 0, "no \(table) rows stored")
            }
            #expect(try await queued(queue, .analyze) == 1)
            #expect(!f.storeExists(f.sellers[1]), "the other seller was not touched")
        }
    }

    @Test("Re-fetching the same day replaces that day's rows: the same counts, never duplicates, no vanished rows")
    func idempotentRefetch() async throws {
        try await withFetchFixture { f in
            let queue = InMemoryJobQueue()
            try await enqueueFetch(queue, seller: f.seller, run: "first")
            let first = try await drain(queue, router: f.router, logger: f.logger)
            #expect(first.compactMap(\.error).map(\.message) == [])
            let before = try await f.counts()

            // Rows Amazon no longer has (a listing deleted, a paused target) must not outlive a re-fetch of their
            // day, while other days' rows stay.
            let store = try await f.storage.openSeller(f.seller, create: false)
            let listing = try #require(try await store.rows(ListingSnapshot.self).first)
            let target = try #require(try await store.rows(AdTarget.self).first)
            var gone = listing, earlier = listing, paused = target
            gone.sku = "VANISHED-SKU"
            earlier.day = sandboxToday.adding(days: -1)
            paused.targetID = "VANISHED-TARGET"
            try await store.save([gone, earlier])
            try await store.save([paused])
            await store.close()

            try await enqueueFetch(queue, seller: f.seller, run: "second")
            let second = try await drain(queue, router: f.router, logger: f.logger)
            #expect(second.compactMap(\.error).map(\.message) == [])
            var after = try await f.counts()
            after["listing", default: 0] -= 1
            #expect(after == before, "the same rows as after the first run, plus the other day's listing")
            let reread = try await f.storage.openSeller(f.seller, create: false)
            #expect(try await !reread.rows(ListingSnapshot.self).contains { $0.sku == "VANISHED-SKU" })
            #expect(try await reread.rows(ListingSnapshot.self, through: sandboxToday.adding(days: -1)).count == 1)
            #expect(try await !reread.rows(AdTarget.self).contains { $0.targetID == "VANISHED-TARGET" })
            await reread.close()
            #expect(try await queued(queue, .analyze) == 2, "one analyze job per run")
        }
    }

    @Test("Fan-in: duplicated, racing and re-delivered jobs still enqueue exactly one analyze job")
    func fanInExactlyOnce() async throws {
        // Without Ads: racing copies of one Ads job meet Amazon's 425 "duplicate report pending" (a transient
        // failure), which the worker's per-seller lock prevents in production.
        try await withFetchFixture(ads: false) { f in
            let queue = try await f.redisQueue()
            try await enqueueFetch(queue, seller: f.seller, run: "dup-run")
            // Every delivery is handled by three racing handler calls (duplicate deliveries of one job).
            let ran = try await drain(queue, router: f.router, logger: f.logger, copies: 3)
            #expect(ran.compactMap(\.error).map(\.message) == [])
            #expect(ran.map(\.job.kind).sorted() == ([JobKind.fetch] + FetchDataSet.allCases.filter { $0 != .ads }.map(\.kind)).sorted(),
                    "each data set was enqueued once despite the racing duplicates")
            #expect(try await queued(queue, .analyze) == 1)

            // Re-delivery after the run completed: the fetch and every data-set job arrive again.
            for job in ran.map(\.job) {
                var again = job
                again.attempt += 1
                _ = try await queue.enqueue(again)
            }
            let rerun = try await drain(queue, router: f.router, logger: f.logger)
            #expect(rerun.compactMap(\.error).map(\.message) == [])
            #expect(rerun.count == ran.count, "the re-delivered fetch fanned out nothing new")
            #expect(try await queued(queue, .analyze) == 1)
        }
    }

    @Test("The fan-in record keeps what the first fan-out recorded and knows nothing of unknown runs")
    func ledgerRecord() async throws {
        try await withFetchFixture { f in
            let first = try await f.ledger.begin(seller: f.seller, run: "r", day: sandboxToday, expected: [.listings, .ads], ttlSeconds: 60)
            let again = try await f.ledger.begin(seller: f.seller, run: "r", day: sandboxToday.adding(days: 1), expected: [.traffic], ttlSeconds: 60)
            #expect(again.expected == first.expected && again.day == sandboxToday)
            #expect(try await f.ledger.complete(seller: f.seller, run: "r", dataSet: .ads) == .waiting)
            #expect(try await f.ledger.complete(seller: f.seller, run: "r", dataSet: .ads) == .waiting)
            #expect(try await f.ledger.complete(seller: f.seller, run: "r", dataSet: .listings) == .complete)
            #expect(try await f.ledger.complete(seller: f.seller, run: "unknown", dataSet: .listings) == .unknownRun)
            let ttl = try await RedisClient(endpoint: try await SharedRedis.endpoint()).send(["PTTL", f.ledger.key(seller: f.seller, run: "r")])
            #expect((1...60_000).contains(ttl.int ?? 0), "the run record expires")
        }
    }

    @Test("A seller revoked (or unknown) before the fetch: permanent error, nothing fanned out, nothing stored")
    func revokedBeforeFetch() async throws {
        try await withFetchFixture { f in
            let queue = InMemoryJobQueue()
            try await f.control.setStatus(of: f.seller, to: .revoked)
            try await enqueueFetch(queue, seller: f.seller, run: "r")
            try await enqueueFetch(queue, seller: SellerID(rawValue: "UNREGISTERED1")!, run: "r")
            _ = try await queue.enqueue(JobEnvelope(kind: .fetchListings, seller: f.seller, arguments: ["day": sandboxToday.rawValue]))
            let ran = try await drain(queue, router: f.router, logger: f.logger)
            #expect(ran.count == 3)
            for run in ran {
                #expect(run.error?.retryable == false, "\(run.job.kind) must fail permanently")
            }
            #expect(ran[0].error?.message.contains("revoked") == true)
            #expect(ran[1].error?.message.contains("not registered") == true)
            #expect(!f.storeExists(f.seller) && !f.storeExists(SellerID(rawValue: "UNREGISTERED1")!))
            #expect(await f.sandbox.server.counts().requests.isEmpty, "Amazon was never called")
        }
    }

    @Test("Revocation mid-fetch: invalid_grant marks the seller revoked, audits, enqueues one wipe, stores nothing after")
    func revokedMidFetch() async throws {
        try await withFetchFixture { f in
            let queue = InMemoryJobQueue()
            try await enqueueFetch(queue, seller: f.seller, run: "r")
            let sandbox = f.sandbox
            let seller = f.seller
            let ran = try await drain(queue, router: f.router, logger: f.logger) { job in
                if job.kind == .fetchPricing { await sandbox.server.revoke(seller: seller.rawValue) }
            }
            #expect(ran.map(\.job.kind) == [.fetch, .fetchListings, .fetchPricing], "the seller's other queued data sets were dropped")
            let failure = try #require(ran.last?.error)
            #expect(!failure.retryable)
            #expect(failure.message.contains("invalid_grant") && !failure.message.contains("\n"))

            #expect(try await f.control.seller(seller).status == .revoked)
            #expect(try await f.control.auditLog(for: seller).contains { $0.operation == .revoke && $0.detail.contains("invalid_grant") })
            #expect(try await queued(queue, .wipe) == 1)
            #expect(try await queued(queue, .analyze) == 0)
            let counts = try await f.counts()
            #expect((counts["listing"] ?? 0) > 0, "listings were stored before the revocation")
            for table in ["offer", "traffic", "sqp", "campaign", "adGroup", "target", "metric", "searchTerm"] {
                #expect(counts[table] == 0, "\(table) rows stored after the revocation")
            }

            // A late duplicate of a data-set job for the revoked seller stores nothing and enqueues no second wipe.
            _ = try await queue.enqueue(JobEnvelope(kind: .fetchTraffic, seller: seller, arguments: ["day": sandboxToday.rawValue, "run": "r"]))
            let late = try await drain(queue, router: f.router, logger: f.logger)
            #expect(late.first?.error?.retryable == false)
            #expect(try await f.counts()["traffic"] == 0)
            #expect(try await queued(queue, .wipe) == 1)
        }
    }

    @Test("A seller revoked in the registry while its data set is being fetched gets nothing stored")
    func revokedDuringDataSet() async throws {
        // Reports take 2 s of real time here, so the revocation lands while the job polls Amazon.
        try await withFetchFixture(sandbox: SandboxConfig(sellers: 1, skus: 4, seed: 3, timeScale: 100, reportSeconds: 200)) { f in
            let queue = InMemoryJobQueue()
            _ = try await queue.enqueue(JobEnvelope(kind: .fetchTraffic, seller: f.seller, arguments: ["day": sandboxToday.rawValue]))
            let router = f.router, logger = f.logger
            let job = Task { try await drain(queue, router: router, logger: logger) }
            try await eventually("the traffic job has asked Amazon for its report", timeout: 30) {
                await f.sandbox.server.counts().requests["createReport", default: 0] >= 1
            }
            try await f.control.setStatus(of: f.seller, to: .revoked)
            let ran = try await job.value
            #expect(ran.first?.error?.retryable == false)
            #expect(ran.first?.error?.message.contains("revoked") == true)
            #expect(!f.storeExists(f.seller), "nothing was written, not even an empty store")
        }
    }

    @Test("PII-laden Amazon responses leave no PII bytes in the store files or in the decrypted data")
    func piiNeverStored() async throws {
        try await withFetchFixture { f in
            await f.sandbox.server.arm(.pii, operation: "getListingsItem", count: 1_000)
            let queue = InMemoryJobQueue()
            try await enqueueFetch(queue, seller: f.seller, run: "r")
            let ran = try await drain(queue, router: f.router, logger: f.logger)
            #expect(ran.compactMap(\.error).map(\.message) == [])
            let world = f.sandbox.server.world
            #expect(try await f.counts()["listing"] == world.skus(of: world.sellers[0]).count)

            let store = try await f.storage.openSeller(f.seller, create: false)
            let export = try await store.exportAll()
            await store.close()
            let plaintext = Data(export.tables.flatMap { $0.rows.flatMap { $0.compactMap { $0 } } }.joined(separator: "\u{1F}").utf8)
            #expect(occurs(world.sellers[0].sellerID, in: plaintext), "the export is readable plaintext")
            let files = allFiles(under: f.directory)
            #expect(files.contains { $0.lastPathComponent.hasPrefix("seller-") })
            for pii in plantedPII {
                #expect(!occurs(pii, in: plaintext), "decrypted store holds '\(pii)'")
                for file in files {
                    #expect(!occurs(pii, in: try Data(contentsOf: file)), "\(file.lastPathComponent) holds '\(pii)'")
                }
            }
        }
    }

    @Test("A malformed response fails the data set with a one-line error naming operation and field; yesterday stays intact")
    func malformedKeepsYesterday() async throws {
        try await withFetchFixture(ads: false) { f in
            let queue = InMemoryJobQueue()
            let yesterday = sandboxToday.adding(days: -1)
            try await enqueueFetch(queue, seller: f.seller, run: "yesterday", day: yesterday)
            #expect(try await drain(queue, router: f.router, logger: f.logger).compactMap(\.error).map(\.message) == [])
            let store = try await f.storage.openSeller(f.seller, create: false)
            let offersBefore = try await store.rows(OfferSnapshot.self)
            #expect(!offersBefore.isEmpty && offersBefore.allSatisfy { $0.day == yesterday })

            await f.sandbox.server.arm(.malformed, operation: "getItemOffersBatch", count: 1_000)
            try await enqueueFetch(queue, seller: f.seller, run: "today", day: sandboxToday)
            let ran = try await drain(queue, router: f.router, logger: f.logger)
            let failed = ran.filter { $0.error != nil }
            #expect(failed.map(\.job.kind) == [.fetchPricing])
            let error = try #require(failed.first?.error)
            #expect(error.retryable, "a malformed answer is retried by the worker, then dead-lettered")
            #expect(error.message.contains("getItemOffersBatch") && error.message.contains("malformed") && error.message.contains("'"))
            #expect(!error.message.contains("\n"))
            #expect(try await store.rows(OfferSnapshot.self) == offersBefore, "yesterday's offers are untouched, none stored for today")
            #expect(try await queued(queue, .analyze) == 1, "only yesterday's run completed")
            await store.close()
        }
    }

    @Test("A data-set job without its day, or with a bad run id, fails permanently naming the argument")
    func badArguments() async throws {
        try await withFetchFixture { f in
            let queue = InMemoryJobQueue()
            _ = try await queue.enqueue(JobEnvelope(kind: .fetchTraffic, seller: f.seller))
            _ = try await queue.enqueue(JobEnvelope(kind: .fetch, seller: f.seller, arguments: ["run": "a/b"]))
            let ran = try await drain(queue, router: f.router, logger: f.logger)
            #expect(ran.count == 2 && ran.allSatisfy { $0.error?.retryable == false })
            #expect(ran.contains { $0.error?.message.contains("'day' argument is missing") == true })
            #expect(ran.contains { $0.error?.message.contains("'run' must be") == true })
        }
    }
}
