import AmazonClient
import JobQueueRedis
import Logging
import Redis
import ServiceLifecycle

/// Adds this process's Amazon API call and 429 counts to the shard's `stats:api` hash, for `/metrics`.
///
/// The client counts in memory (no Redis round trip per call); this service publishes the growth since
/// its last publication every `interval` seconds with one pipelined `HINCRBY` per changed field, and once
/// more when the process stops, so every fetcher process and machine adds to the same totals.
public struct ApiStatsPublisher: Service {
    private let client: AmazonClient
    private let redis: RedisClient
    private let key: String
    private let interval: Double
    private let logger: Logger

    /// - Parameters:
    ///   - keys: the queue's key space; counts go to `keys.apiStats`.
    ///   - interval: seconds between publications.
    public init(client: AmazonClient, redis: RedisClient, keys: RedisKeys, interval: Double = 5, logger: Logger) {
        self.client = client
        self.redis = redis
        self.key = keys.apiStats
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var published: [String: Int] = [:]
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(interval)) }
            published = await publish(since: published)
        }
        _ = await publish(since: published)
    }

    /// Publishes what grew since `published` and returns the new baseline (unchanged if Redis refused,
    /// so the counts go out with the next publication instead of being lost).
    func publish(since published: [String: Int]) async -> [String: Int] {
        var current: [String: Int] = [:]
        for (operation, counts) in await client.callCounts() {
            current["\(operation):calls"] = counts.calls
            current["\(operation):429"] = counts.throttled
        }
        let commands = current.sorted { $0.key < $1.key }.compactMap { field, total -> [String]? in
            let growth = total - (published[field] ?? 0)
            return growth > 0 ? ["HINCRBY", key, field, String(growth)] : nil
        }
        guard !commands.isEmpty else { return published }
        do {
            let replies = try await redis.pipeline(commands)
            if let error = replies.compactMap(\.errorMessage).first {
                throw RedisError(.reply, error)
            }
            return current
        } catch {
            logger.warning("API call counts not published; retrying next time", metadata: ["key": "\(key)", "error": "\(error)"])
            return published
        }
    }
}
