public import JobQueueRedis
public import Redis

/// Makes each OAuth `state` single-use: the first `consume` of a nonce succeeds, every later one fails.
public protocol StateLedger: Sendable {
    /// Marks `nonce` used for `ttl` seconds; false when it was already used.
    func consume(nonce: String, ttl: Double) async throws -> Bool
}

/// The production ledger: `SET {prefix:shard}:oauth-state:<nonce> 1 NX PX <ttl>` in Redis.
///
/// Atomic across any number of web processes; the marker only has to outlive the state's own
/// expiry, after which the signature check refuses the state anyway.
public struct RedisStateLedger: StateLedger {
    private let client: RedisClient
    private let keys: RedisKeys

    public init(client: RedisClient, keys: RedisKeys) {
        self.client = client
        self.keys = keys
    }

    public func consume(nonce: String, ttl: Double) async throws -> Bool {
        let reply = try await client.send(["SET", keys.oauthState(nonce), "1", "NX", "PX", String(max(1, Int(ttl * 1000)))])
        if let error = reply.errorMessage { throw RedisError(.reply, "marking OAuth state used failed: \(error)") }
        return !reply.isNull
    }
}
