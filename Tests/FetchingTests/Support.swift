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

/// The sandbox's fixed "today": runs in these tests capture this day.
let sandboxToday = Day(rawValue: "2025-06-18")!

/// Buyer data the sandbox's `pii` fault plants in listings (AmazonClient's firewall must drop all of it).
let plantedPII = ["john.smith@example.com", "jane.doe@example.org", "206-555-0143", "555-0199", "123 Main Street",
                  "Mary Johnson", "John Smith", "Jane Doe"]

/// Everything a fetch test needs, all real: a sandbox over loopback HTTP, a client pointed at it, encrypted stores
/// in a temporary directory with the sandbox's sellers registered, the fan-in ledger in Redis under a prefix of
/// its own, and the fetcher's router.
struct FetchFixture {
    let sandbox: RunningSandbox
    let client: AmazonClient
    let storage: SellerStorage
    let control: ControlStore
    let directory: URL
    let prefix: String
    let keys: RedisKeys
    let ledger: RedisFetchRunLedger
    let router: JobRouter
    let sellers: [SellerID]
    let logger: Logger

    var seller: SellerID { sellers[0] }

    /// A fresh Redis queue under this fixture's prefix.
    func redisQueue() async throws -> RedisJobQueue {
        let queue = RedisJobQueue(endpoint: try await SharedRedis.endpoint(), keys: keys, logger: logger)
        try await queue.prepare(kinds: JobKind.all)
        return queue
    }

    /// Rows per table of `seller`'s store (opens the store, so call only when it should exist).
    func counts(_ id: SellerID? = nil) async throws -> [String: Int] {
        let store = try await storage.openSeller(id ?? seller, create: false)
        let counts = [
            "listing": try await store.count(ListingSnapshot.self), "offer": try await store.count(OfferSnapshot.self),
            "traffic": try await store.count(SalesTrafficRow.self), "sqp": try await store.count(SearchQueryRow.self),
            "campaign": try await store.count(AdCampaign.self), "adGroup": try await store.count(AdGroup.self),
            "target": try await store.count(AdTarget.self), "metric": try await store.count(AdMetricRow.self),
            "searchTerm": try await store.count(SearchTermRow.self),
        ]
        await store.close()
        return counts
    }

    /// Whether `seller`'s encrypted database file exists at all.
    func storeExists(_ id: SellerID) -> Bool {
        FileManager.default.fileExists(atPath: storage.databasePath(for: id))
    }
}

/// Runs `body` with a started fixture and tears everything down (sandbox, client, stores, temp dir, Redis keys).
func withFetchFixture<R>(_ name: String = #function,
                         sandbox config: SandboxConfig = SandboxConfig(sellers: 2, skus: 8, seed: 11, timeScale: 400, reportSeconds: 20),
                         ads: Bool = true, configuration: FetchConfiguration = FetchConfiguration(listingsConcurrency: 8),
                         _ body: (FetchFixture) async throws -> R) async throws -> R {
    var logger = Logger(label: "fetching-test")
    logger.logLevel = .critical
    var sandboxLogger = Logger(label: "sandbox")
    sandboxLogger.logLevel = .critical
    let sandbox = try await RunningSandbox.start(config, logger: sandboxLogger)
    let directory = try TemporaryDirectory.make(prefix: "fetching")
    let prefix = SharedRedis.uniquePrefix(name)
    let base = URL(string: sandbox.url)!
    var clientConfig = AmazonClientConfig(
        endpoints: AmazonEndpoints(spapi: base, lwaToken: base.appendingPathComponent("auth/o2/token"), ads: base),
        lwaClientID: "amzn1.application-oa2-client.test", lwaClientSecret: "test-secret",
        connectTimeout: .seconds(5), readTimeout: .seconds(20),
        reportPollInitialDelay: 0.02, reportPollMaxDelay: 0.1, reportTimeout: 60)
    // Both JobQueue and AmazonClient export a `RetryPolicy`; adjusting fields avoids naming either.
    clientConfig.retry.maxThrottleAttempts = 10
    clientConfig.retry.maxServerErrorAttempts = 3
    clientConfig.retry.baseDelay = 0.02
    clientConfig.retry.maxDelay = 0.2
    let client = AmazonClient(config: clientConfig, rateLimiter: TokenBucketRateLimiter(timeScale: config.timeScale), logger: logger)
    func teardown() async {
        try? await client.shutdown()
        await sandbox.stop()
        try? FileManager.default.removeItem(at: directory)
        try? await SharedRedis.deleteKeys(prefix: prefix)
    }
    do {
        let storage = try SellerStorage(StoreLocations(dataDirectory: directory.path + "/data", keyDirectory: directory.path + "/keys",
                                                       masterKey: .generate()))
        let control = try await storage.openControlStore()
        var sellers: [SellerID] = []
        for s in sandbox.server.world.sellers {
            let id = SellerID(rawValue: s.sellerID)!
            try await control.register(SellerRegistration(
                sellerID: id, region: .na, marketplaceIDs: [s.marketplaceID], spRefreshToken: Secret(s.spapiRefreshToken),
                adsRefreshToken: ads ? Secret(s.adsRefreshToken) : nil, adsProfileID: ads ? s.adsProfileID : nil))
            sellers.append(id)
        }
        let keys = RedisKeys(prefix: prefix)
        let ledger = RedisFetchRunLedger(client: RedisClient(endpoint: try await SharedRedis.endpoint(), label: "ledger"), keys: keys)
        let router = try await FetchHandlers.makeRouter(configuration: configuration, storage: storage, ledger: ledger, client: client)
        let fixture = FetchFixture(sandbox: sandbox, client: client, storage: storage, control: control, directory: directory,
                                   prefix: prefix, keys: keys, ledger: ledger, router: router, sellers: sellers, logger: logger)
        let result = try await body(fixture)
        await teardown()
        return result
    } catch {
        await teardown()
        throw error
    }
}

/// What became of one job run by ``drain(_:router:copies:before:)``.
struct Ran: Sendable {
    var job: JobEnvelope
    var error: JobError?
}

/// Runs the fetcher's queued jobs one at a time, as a worker would, until none is left, and returns what happened.
///
/// `copies` > 1 hands each delivery to that many concurrent handler calls (a duplicated or re-delivered job racing
/// itself). `before` runs before each job (to revoke a seller between data sets). Failed jobs are dead-lettered at
/// once; retry policy is the worker's business and is tested there.
@discardableResult
func drain(_ queue: any JobQueue, router: JobRouter, logger: Logger, copies: Int = 1,
           before: @Sendable (JobEnvelope) async throws -> Void = { _ in }) async throws -> [Ran] {
    var ran: [Ran] = []
    while true {
        // A Redis XREADGROUP's COUNT is per stream, so one read may bring a job of every kind: run them all.
        let batch = try await queue.dequeue(kinds: JobKind.fetcherKinds, consumer: "test", max: 1, wait: 0.01)
        if batch.isEmpty { break }
        for delivery in batch {
            guard let job = delivery.envelope else { throw CommandFailure("malformed job in queue: \(delivery.decodeError ?? "")") }
            try await before(job)
            let context = JobContext(logger: logger, queue: queue, delivery: delivery)
            let errors = await withTaskGroup(of: JobError?.self) { group in
                for _ in 0..<max(1, copies) {
                    group.addTask {
                        do {
                            try await router.handle(job, context: context)
                            return nil
                        } catch {
                            return error as? JobError ?? .transient("\(error)")
                        }
                    }
                }
                var all: [JobError?] = []
                for await error in group { all.append(error) }
                return all
            }
            let error = errors.compactMap { $0 }.first
            ran.append(Ran(job: job, error: error))
            let outcome: Outcome = error.map { .dead(delivery, reason: $0.message) } ?? .completed(delivery)
            try await queue.settle([outcome], unlocking: [])
        }
    }
    return ran
}

/// Enqueues a seller's whole fetch for `day` under `run`.
func enqueueFetch(_ queue: any JobQueue, seller: SellerID, run: String, day: Day = sandboxToday) async throws {
    _ = try await queue.enqueue(JobEnvelope(kind: .fetch, seller: seller, arguments: ["run": run, "day": day.rawValue]))
}

/// Number of queued jobs of `kind`.
func queued(_ queue: any JobQueue, _ kind: JobKind) async throws -> Int {
    try await queue.status(kinds: [kind]).first?.streamLength ?? 0
}

/// Every regular file under `directory`, recursively.
func allFiles(under directory: URL) -> [URL] {
    guard let e = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
    return e.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
}

/// Whether `needle` occurs in `haystack`.
func occurs(_ needle: String, in haystack: Data) -> Bool {
    haystack.range(of: Data(needle.utf8)) != nil
}
