import Domain
import Foundation
import JobQueue
import JobQueueRedis
import Logging
import PipelineTesting
import Redis

/// A Redis-backed queue under a key prefix of its own, plus what tests need around it.
struct QueueFixture {
    let endpoint: RedisEndpoint
    let prefix: String
    let queue: RedisJobQueue
    let redis: RedisClient

    var keys: RedisKeys { queue.keys }

    init(name: String = #function, endpoint: RedisEndpoint? = nil, deadLetterCap: Int = 10_000) async throws {
        let shared = try await SharedRedis.endpoint()
        let endpoint = endpoint ?? shared
        self.endpoint = endpoint
        prefix = SharedRedis.uniquePrefix(name)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        queue = RedisJobQueue(endpoint: endpoint, keys: RedisKeys(prefix: prefix), deadLetterCap: deadLetterCap, logger: logger)
        redis = RedisClient(endpoint: endpoint, label: "test")
    }

    /// Environment for a worker process bound to this fixture's Redis and prefix.
    func environment(visibility: Double = 30, extra: [String: String] = [:]) -> [String: String] {
        [
            "OPTMAZON_REDIS_URL": "redis://\(endpoint.host):\(endpoint.port)/0",
            "OPTMAZON_KEY_PREFIX": prefix,
            "OPTMAZON_WORKER_VISIBILITY_TIMEOUT": String(visibility),
            "OPTMAZON_WORKER_BLOCK_SECONDS": "0.2",
            "OPTMAZON_RETRY_BASE_DELAY": "0.1",
            "OPTMAZON_LOG_LEVEL": "warning",
        ].merging(extra) { _, new in new }
    }

    /// Starts `optmazon-queue-probe` consuming `kind`.
    func startProbe(kind: JobKind = .fetch, concurrency: Int = 4, visibility: Double = 30, burst: Bool = false,
                    extra: [String: String] = [:]) throws -> ProductProcess {
        var args = ["--kinds", kind.rawValue, "--concurrency", String(concurrency)]
        if burst { args.append("--burst") }
        return try ProductProcess("optmazon-queue-probe", arguments: args, environment: environment(visibility: visibility, extra: extra))
    }

    @discardableResult
    func enqueue(_ kind: JobKind = .fetch, seller: String = "SELLER1", args: [String: String] = [:], id: String = JobEnvelope.newID()) async throws -> String {
        let job = JobEnvelope(id: id, kind: kind, seller: SellerID(rawValue: seller)!, arguments: args)
        _ = try await queue.enqueue(job)
        return id
    }

    func hashInt(_ key: String, _ field: String) async throws -> Int {
        try await redis.send(["HGET", key, field]).int ?? 0
    }

    func hashLength(_ key: String) async throws -> Int {
        try await redis.send(["HLEN", key]).int ?? 0
    }

    func int(_ key: String) async throws -> Int {
        try await redis.send(["GET", key]).int ?? 0
    }

    func cleanup() async throws {
        try await SharedRedis.deleteKeys(prefix: prefix)
    }
}

/// Handlers for in-process worker tests.
struct RecordingHandler: JobHandler {
    let record: @Sendable (JobEnvelope) async throws -> Void

    func handle(_ job: JobEnvelope, context: JobContext) async throws {
        try await record(job)
    }
}

/// A thread-safe list the handlers append to.
actor Recorder<Element: Sendable> {
    private(set) var items: [Element] = []

    func append(_ item: Element) { items.append(item) }
    var count: Int { items.count }
}

extension JobWorker {
    /// A worker over `queue` for tests, quiet and quick to react.
    static func forTest(queue: any JobQueue, kinds: [JobKind] = [.fetch], concurrency: Int = 4, burst: Bool = true,
                        retry: RetryPolicy = RetryPolicy(maxAttempts: 3, baseDelay: 0.1, maxDelay: 1),
                        visibility: Double = 30, handler: any JobHandler) -> JobWorker {
        var logger = Logger(label: "test-worker")
        logger.logLevel = .critical
        return JobWorker(queue: queue, handler: handler, configuration: WorkerConfiguration(
            kinds: kinds, concurrency: concurrency, blockSeconds: 0.2, visibilityTimeout: visibility, shutdownGrace: 5,
            burst: burst, burstHorizon: 10, retry: retry), logger: logger)
    }
}
