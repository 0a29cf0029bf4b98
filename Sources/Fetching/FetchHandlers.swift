import AmazonClient
import Domain
import Foundation
import JobQueue
import JobQueueRedis
import Logging
import RateLimitRedis
import SellerStore

/// The fetcher's job handlers and the factory `optmazon-fetcher` uses to build them.
///
/// A `fetch` job fans out into data-set jobs (listings, traffic, ads; listings then fans out pricing and
/// SQP, which need the run's SKU/ASIN inventory); each data-set job stores its rows and reports to the
/// run's fan-in record; the data set that completes the run enqueues the one analyze job.
public enum FetchHandlers {
    /// The router for every fetcher kind (`JobKind.fetcherKinds`), with the fan-in record in `ledger`.
    public static func makeRouter(configuration: FetchConfiguration = FetchConfiguration(), storage: SellerStorage,
                                  ledger: any FetchRunLedger, client: AmazonClient) async throws -> JobRouter {
        let environment = FetchEnvironment(control: try await storage.openControlStore(),
                                           stores: SellerStoreCache(storage: storage, capacity: configuration.storeCacheCapacity),
                                           client: client, ledger: ledger, configuration: configuration)
        var handlers: [JobKind: any JobHandler] = [.fetch: FetchRunHandler(environment: environment)]
        for dataSet in FetchDataSet.allCases {
            handlers[dataSet.kind] = DataSetHandler(dataSet: dataSet, environment: environment)
        }
        return JobRouter(handlers)
    }

    /// The router for a Redis-backed fetcher: the fan-in record lives in the queue's Redis, on each seller's shard.
    public static func makeRouter(configuration: FetchConfiguration = FetchConfiguration(), storage: SellerStorage,
                                  queue: RedisJobQueue, client: AmazonClient) async throws -> JobRouter {
        try await makeRouter(configuration: configuration, storage: storage,
                             ledger: RedisFetchRunLedger(client: queue.client, keys: queue.keys), client: client)
    }

    /// An Amazon client whose token buckets live in the queue's Redis, shared by every fetcher process and machine.
    ///
    /// - Parameter timeScale: the sandbox's `--time-scale` in tests and benchmarks; 1 against Amazon.
    public static func makeAmazonClient(config: AmazonClientConfig, queue: RedisJobQueue, timeScale: Double = 1,
                                        logger: Logger) -> AmazonClient {
        let limiter = RedisRateLimiter(client: queue.client, keys: queue.keys, timeScale: timeScale, logger: logger)
        return AmazonClient(config: config, rateLimiter: limiter, logger: logger)
    }

    /// The unique-job key of a run's data-set job, so a re-delivered fan-out enqueues each data set once.
    public static func dataSetUniqueKey(seller: SellerID, run: String, dataSet: FetchDataSet) -> String {
        "fetch:\(seller.rawValue):\(run):\(dataSet.rawValue)"
    }

    /// The unique-job key of a run's analyze job: exactly one per run, however often the fan-in completes.
    public static func analyzeUniqueKey(seller: SellerID, run: String) -> String {
        "analyze:\(seller.rawValue):\(run)"
    }
}

/// `fetch`: checks the seller, records the run, enqueues the data sets that need nothing from the run.
struct FetchRunHandler: JobHandler {
    let environment: FetchEnvironment

    func close() async {
        await environment.close()
    }

    func handle(_ job: JobEnvelope, context: JobContext) async throws {
        do throws(FetchError) {
            try await fanOut(job, context: context)
        } catch {
            context.logger.warning("fetch not started", metadata: ["error": "\(error)"])
            throw error.jobError
        }
    }

    private func fanOut(_ job: JobEnvelope, context: JobContext) async throws(FetchError) {
        let arguments = try FetchRunArguments.forFetch(job)
        guard let run = arguments.run else { preconditionFailure("forFetch always sets a run id") }
        let registered = try await environment.activeSeller(job, day: arguments.day)
        let wanted = FetchDataSet.allCases.filter { $0 != .ads || registered.adsRefreshToken != nil }
        let recorded: (expected: [FetchDataSet], day: Day)
        do {
            recorded = try await environment.ledger.begin(seller: job.seller, run: run, day: arguments.day, expected: wanted,
                                                          ttlSeconds: environment.configuration.runTTLSeconds)
        } catch {
            throw FetchError(seller: job.seller, kind: job.kind, day: arguments.day, reason: .queue("\(error)"))
        }
        let runArguments = FetchRunArguments(run: run, day: recorded.day)
        let first = recorded.expected.filter { !$0.needsListings }
        let requests = first.map { dataSet in
            EnqueueRequest(JobEnvelope(kind: dataSet.kind, seller: job.seller, arguments: runArguments.encoded, traceID: job.traceID),
                           uniqueKey: FetchHandlers.dataSetUniqueKey(seller: job.seller, run: run, dataSet: dataSet),
                           uniqueFor: environment.configuration.runTTLSeconds)
        }
        let results: [EnqueueResult]
        do {
            results = try await context.queue.enqueue(batch: requests)
        } catch {
            throw FetchError(seller: job.seller, kind: job.kind, day: recorded.day, reason: .queue("\(error)"))
        }
        let enqueued = results.filter { if case .enqueued = $0 { true } else { false } }.count
        context.logger.info("fetch fanned out", metadata: [
            "run": "\(run)", "day": "\(recorded.day)", "expected": "\(recorded.expected.map(\.rawValue).joined(separator: ","))",
            "enqueued": "\(enqueued)", "duplicates": "\(results.count - enqueued)",
        ])
    }
}

/// One data set: fetch it from Amazon, store it in the seller's store, report to the run's fan-in.
struct DataSetHandler: JobHandler {
    let dataSet: FetchDataSet
    let environment: FetchEnvironment

    private var client: AmazonClient { environment.client }
    private var configuration: FetchConfiguration { environment.configuration }

    func close() async {
        await environment.close()
    }

    func handle(_ job: JobEnvelope, context: JobContext) async throws {
        do throws(FetchError) {
            try await run(job, context: context)
        } catch {
            context.logger.warning("data set not stored", metadata: ["data_set": "\(dataSet.rawValue)", "error": "\(error)"])
            throw error.jobError
        }
    }

    private func run(_ job: JobEnvelope, context: JobContext) async throws(FetchError) {
        let arguments = try FetchRunArguments.forDataSet(job)
        let day = arguments.day
        let registered = try await environment.activeSeller(job, day: day)
        let seller = SellerAuthorization(sellerID: registered.sellerID, spapiRefreshToken: registered.spRefreshToken.reveal(),
                                         adsRefreshToken: registered.adsRefreshToken?.reveal())
        let stored: Int
        do throws(FetchError) {
            switch dataSet {
            case .listings: stored = try await listings(job, seller, registered, day: day)
            case .pricing: stored = try await pricing(job, seller, registered, day: day)
            case .traffic: stored = try await traffic(job, seller, registered, day: day)
            case .sqp: stored = try await searchQueries(job, seller, registered, day: day)
            case .ads: stored = try await ads(job, seller, registered, day: day, context: context)
            }
        } catch {
            if case .amazon(.authorizationRevoked) = error.reason {
                throw await environment.revoke(job, day: day, context: context)
            }
            throw error
        }
        context.logger.info("data set stored", metadata: ["data_set": "\(dataSet.rawValue)", "day": "\(day)", "rows": "\(stored)"])
        guard let run = arguments.run else { return }
        if dataSet == .listings {
            try await enqueueFollowers(job, run: run, day: day, context: context)
        }
        try await fanIn(job, run: run, day: day, context: context)
    }

    // MARK: - Data sets (each returns how many rows it stored)

    /// Listings: the All Listings report, then Listings Items (and Catalog Items where needed), per marketplace.
    private func listings(_ job: JobEnvelope, _ seller: SellerAuthorization, _ registered: RegisteredSeller,
                          day: Day) async throws(FetchError) -> Int {
        var rows: [ListingSnapshot] = []
        for marketplace in registered.marketplaceIDs {
            rows += try await amazon(job, day) {
                try await client.fetchListings(seller: seller, marketplace: marketplace, day: day, concurrency: configuration.listingsConcurrency)
            }
        }
        return try await save(rows, job, day: day, replacing: [day])
    }

    /// Writes one data set's rows in one transaction, replacing what the store held for the capture `days`
    /// (nothing if the seller was revoked meanwhile).
    private func save<Row: SellerTableRow>(_ rows: [Row], _ job: JobEnvelope, day: Day, replacing days: Set<Day>) async throws(FetchError) -> Int {
        var write = StoreWrite()
        write.replace(rows, days: days)
        try await environment.write(job, day: day) { [write] store in try await store.apply(write) }
        return rows.count
    }

    /// Every day from the earliest to the latest of `days` (a metrics window the rows cover).
    static func span(_ days: [Day]) -> Set<Day> {
        guard let first = days.min(), let last = days.max() else { return [] }
        var out: Set<Day> = []
        var day = first
        while day <= last {
            out.insert(day)
            day = day.adding(days: 1)
        }
        return out
    }

    /// Pricing for the SKUs/ASINs the run's listings job stored for `day`.
    ///
    /// Reading the stored listings (rather than requesting a second All Listings report) keeps one report per
    /// run (createReport allows one a minute per seller, and a report takes minutes to generate) and makes
    /// pricing cover exactly the inventory the run captured.
    private func pricing(_ job: JobEnvelope, _ seller: SellerAuthorization, _ registered: RegisteredSeller,
                         day: Day) async throws(FetchError) -> Int {
        let inventory = try await storedListings(job, day: day)
        var rows: [OfferSnapshot] = []
        for marketplace in registered.marketplaceIDs {
            let items = inventory.filter { $0.marketplaceID == marketplace && !$0.asin.isEmpty }.map { (sku: $0.sku, asin: $0.asin) }
            guard !items.isEmpty else { continue }
            rows += try await amazon(job, day) {
                try await client.fetchOffers(seller: seller, marketplace: marketplace, day: day, items: items)
            }
        }
        return try await save(rows, job, day: day, replacing: [day])
    }

    /// Sales and traffic of the last complete day before `day` (Amazon has no data for a day still running).
    private func traffic(_ job: JobEnvelope, _ seller: SellerAuthorization, _ registered: RegisteredSeller,
                         day: Day) async throws(FetchError) -> Int {
        let reportDay = day.adding(days: -1)
        var rows: [SalesTrafficRow] = []
        for marketplace in registered.marketplaceIDs {
            rows += try await amazon(job, day) {
                try await client.fetchSalesTraffic(seller: seller, marketplace: marketplace, day: reportDay)
            }
        }
        return try await save(rows, job, day: day, replacing: [reportDay])
    }

    /// Search Query Performance of the last complete week for the ASINs the run's listings job stored.
    private func searchQueries(_ job: JobEnvelope, _ seller: SellerAuthorization, _ registered: RegisteredSeller,
                               day: Day) async throws(FetchError) -> Int {
        let inventory = try await storedListings(job, day: day)
        var rows: [SearchQueryRow] = []
        for marketplace in registered.marketplaceIDs {
            let asins = Array(Set(inventory.filter { $0.marketplaceID == marketplace }.map(\.asin).filter { !$0.isEmpty })).sorted()
            guard !asins.isEmpty else { continue }
            rows += try await amazon(job, day) {
                try await client.fetchSearchQueryPerformance(seller: seller, marketplace: marketplace, day: day, asins: asins)
            }
        }
        // The week asked for is replaced even when Amazon had no data for it (a CANCELLED report).
        let week = AmazonClient.lastCompleteWeek(before: day).start
        return try await save(rows, job, day: day, replacing: Set(rows.map(\.weekStart)).union([week]))
    }

    /// Sponsored Products structure (campaigns, ad groups, keywords/targets with bids) as of `day`, and the
    /// settled window of daily metrics and search terms, for every marketplace with an Ads profile.
    private func ads(_ job: JobEnvelope, _ seller: SellerAuthorization, _ registered: RegisteredSeller, day: Day,
                     context: JobContext) async throws(FetchError) -> Int {
        guard seller.adsRefreshToken != nil else {
            throw FetchError(seller: job.seller, kind: job.kind, day: day, reason: .badArgument("the seller has no Ads API authorization"))
        }
        var campaigns: [AdCampaign] = [], groups: [AdGroup] = [], targets: [AdTarget] = []
        var metrics: [AdMetricRow] = [], terms: [SearchTermRow] = []
        for marketplace in registered.marketplaceIDs {
            let profile: AdsProfile
            do throws(AmazonClientError) {
                profile = try await client.adsProfile(seller: seller, marketplace: marketplace)
            } catch .adsNotConnected(_, _) {
                context.logger.notice("no Ads profile for marketplace; no Ads data there", metadata: ["marketplace": "\(marketplace)"])
                continue
            } catch {
                throw FetchError(seller: job.seller, kind: job.kind, day: day, reason: .amazon(error))
            }
            campaigns += try await amazon(job, day) { try await client.fetchAdCampaigns(seller: seller, profile: profile, day: day) }
            groups += try await amazon(job, day) { try await client.fetchAdGroups(seller: seller, profile: profile, day: day) }
            targets += try await amazon(job, day) { try await client.fetchAdTargets(seller: seller, profile: profile, day: day) }
            metrics += try await amazon(job, day) {
                try await client.fetchAdMetrics(seller: seller, profile: profile, today: day, days: configuration.adMetricDays)
            }
            terms += try await amazon(job, day) {
                try await client.fetchSearchTerms(seller: seller, profile: profile, today: day, days: configuration.adMetricDays)
            }
        }
        // One transaction for the whole data set: the day's structure replaces the day's earlier snapshot, and
        // the metrics and search terms replace every day of the settled window they cover.
        var write = StoreWrite()
        write.replace(campaigns, days: [day])
        write.replace(groups, days: [day])
        write.replace(targets, days: [day])
        write.replace(metrics, days: Self.span(metrics.map(\.day)))
        write.replace(terms, days: Self.span(terms.map(\.day)))
        try await environment.write(job, day: day) { [write] store in try await store.apply(write) }
        return campaigns.count + groups.count + targets.count + metrics.count + terms.count
    }

    // MARK: - Run bookkeeping

    /// After listings: the data sets that need the run's inventory (pricing, SQP), each at most once per run.
    private func enqueueFollowers(_ job: JobEnvelope, run: String, day: Day, context: JobContext) async throws(FetchError) {
        let arguments = FetchRunArguments(run: run, day: day)
        let requests = FetchDataSet.allCases.filter(\.needsListings).map { dataSet in
            EnqueueRequest(JobEnvelope(kind: dataSet.kind, seller: job.seller, arguments: arguments.encoded, traceID: job.traceID),
                           uniqueKey: FetchHandlers.dataSetUniqueKey(seller: job.seller, run: run, dataSet: dataSet),
                           uniqueFor: configuration.runTTLSeconds)
        }
        do {
            _ = try await context.queue.enqueue(batch: requests)
        } catch {
            throw FetchError(seller: job.seller, kind: job.kind, day: day, reason: .queue("\(error)"))
        }
    }

    /// Reports this data set to the run; the one that completes it enqueues the run's single analyze job.
    private func fanIn(_ job: JobEnvelope, run: String, day: Day, context: JobContext) async throws(FetchError) {
        do {
            switch try await environment.ledger.complete(seller: job.seller, run: run, dataSet: dataSet) {
            case .waiting:
                return
            case .unknownRun:
                context.logger.notice("run record missing or expired; no analyze job from this run", metadata: ["run": "\(run)"])
            case .complete:
                let analyze = JobEnvelope(kind: .analyze, seller: job.seller, arguments: FetchRunArguments(run: run, day: day).encoded,
                                          traceID: job.traceID)
                let result = try await context.queue.enqueue(analyze, at: nil,
                                                             uniqueKey: FetchHandlers.analyzeUniqueKey(seller: job.seller, run: run),
                                                             uniqueFor: configuration.runTTLSeconds)
                if case .enqueued = result {
                    context.logger.info("fetch run complete, analyze enqueued", metadata: ["run": "\(run)", "day": "\(day)"])
                }
            }
        } catch {
            throw FetchError(seller: job.seller, kind: job.kind, day: day, reason: .queue("\(error)"))
        }
    }

    // MARK: - Helpers

    private func storedListings(_ job: JobEnvelope, day: Day) async throws(FetchError) -> [ListingSnapshot] {
        try await environment.read(job, day: day) { store in try await store.rows(ListingSnapshot.self, from: day, through: day) }
    }

    /// Runs one Amazon call, turning its error into a `FetchError` that names this job.
    private func amazon<T: Sendable>(_ job: JobEnvelope, _ day: Day, _ call: () async throws -> T) async throws(FetchError) -> T {
        do {
            return try await call()
        } catch let error as AmazonClientError {
            throw FetchError(seller: job.seller, kind: job.kind, day: day, reason: .amazon(error))
        } catch {
            // The client's data-set functions throw only AmazonClientError; anything else is reported as an outage.
            throw FetchError(seller: job.seller, kind: job.kind, day: day,
                             reason: .amazon(.unavailable(seller: job.seller, operation: job.kind.rawValue, attempts: 1, lastError: "\(error)")))
        }
    }
}
