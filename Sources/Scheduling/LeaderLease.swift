import Foundation
public import JobQueueRedis
public import Redis

/// Exclusive leadership among scheduler instances.
public protocol LeaderLease: Sendable {
    /// This instance's name, stored as the lease's holder.
    var holder: String { get }
    /// Takes the lease if free, or extends it if held by this instance; false when another holds it.
    func acquireOrRenew() async throws -> Bool
    /// Gives the lease up if this instance holds it (on graceful shutdown), so a standby takes over at once.
    func release() async throws
    /// The current holder, if any.
    func currentHolder() async throws -> String?
}

/// A lease in Redis: `SET NX PX` to take it, a compare-and-extend script to renew it.
///
/// The key is `{prefix:0}:scheduler:leader` on shard 0 whatever this process's shard, so one
/// scheduler leads the whole deployment.
public struct RedisLeaderLease: LeaderLease {
    public let holder: String
    public let key: String
    public let ttl: Double
    private let client: RedisClient

    static let acquireScript = RedisScript("""
        local current = redis.call('GET', KEYS[1])
        if current == false then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        if current == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """)

    static let releaseScript = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('DEL', KEYS[1])
        end
        return 0
        """)

    /// - Parameters:
    ///   - holder: a name unique to this process (default `host:pid:random`).
    ///   - ttl: seconds the lease lasts without renewal.
    public init(client: RedisClient, keys: RedisKeys, ttl: Double, holder: String = RedisLeaderLease.defaultHolder()) {
        self.client = client
        self.key = RedisKeys(prefix: keys.prefix, shard: 0, shardCount: keys.shardCount).scheduler("leader")
        self.ttl = ttl
        self.holder = holder
    }

    /// `host:pid:random`.
    public static func defaultHolder() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8).lowercased())"
    }

    public func acquireOrRenew() async throws -> Bool {
        let reply = try await client.eval(Self.acquireScript, keys: [key], args: [holder, String(Int(ttl * 1000))])
        guard let value = reply.int else {
            throw RedisError(.reply, "scheduler lease \(key) failed: \(reply.errorMessage ?? "unexpected reply")")
        }
        return value == 1
    }

    public func release() async throws {
        _ = try await client.eval(Self.releaseScript, keys: [key], args: [holder])
    }

    public func currentHolder() async throws -> String? {
        try await client.send(["GET", key]).string
    }
}
