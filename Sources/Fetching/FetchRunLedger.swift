import Domain
import JobQueueRedis
import Redis

/// What the ledger says after a data set of a run is recorded.
public enum FanInState: Sendable, Equatable {
    /// Every expected data set of the run is stored: the analyze job is due.
    case complete
    /// Some expected data sets are still missing.
    case waiting
    /// The run is not known (never begun, or its record expired): no fan-in.
    case unknownRun
}

/// The fan-in record of fetch runs: which data sets a run expects and which are stored.
///
/// Both operations are atomic and idempotent, so retried and duplicated jobs are harmless.
public protocol FetchRunLedger: Sendable {
    /// Records a run's expected data sets and day unless the run is already recorded; returns what is recorded,
    /// so a re-delivered `fetch` fans out exactly what the first delivery did.
    func begin(seller: SellerID, run: String, day: Day, expected: [FetchDataSet], ttlSeconds: Double) async throws -> (expected: [FetchDataSet], day: Day)

    /// Marks `dataSet` stored for the run and says whether the run is now complete.
    ///
    /// Returns `.complete` every time it is called once all expected data sets are in (not only the first
    /// time), so a caller that crashed between this call and enqueuing the analyze job enqueues it on its
    /// retry; the analyze job's unique key makes that enqueue happen once.
    func complete(seller: SellerID, run: String, dataSet: FetchDataSet) async throws -> FanInState
}

/// The production ledger: one Redis hash per run (`RedisKeys.fetchRun`) on the seller's shard, changed only by Lua scripts.
public struct RedisFetchRunLedger: FetchRunLedger {
    private let client: RedisClient
    private let keys: RedisKeys

    /// - Parameters:
    ///   - client: a connection for short commands (the queue's `client` is fine).
    ///   - keys: the key space; each run's hash lives on its seller's shard.
    public init(client: RedisClient, keys: RedisKeys) {
        self.client = client
        self.keys = keys
    }

    /// The Redis key of a run's hash.
    public func key(seller: SellerID, run: String) -> String {
        keys.routed(to: seller).fetchRun(seller, run: run)
    }

    /// KEYS: run hash. ARGV: expected (comma-separated), day, ttl ms. Returns {expected, day} as recorded.
    static let beginScript = RedisScript("""
    if redis.call('EXISTS', KEYS[1]) == 0 then
      redis.call('HSET', KEYS[1], 'expected', ARGV[1], 'day', ARGV[2])
      redis.call('PEXPIRE', KEYS[1], ARGV[3])
    end
    return {redis.call('HGET', KEYS[1], 'expected'), redis.call('HGET', KEYS[1], 'day')}
    """)

    /// KEYS: run hash. ARGV: data set. Returns -1 (unknown run), 0 (waiting) or 1 (every expected data set done).
    static let completeScript = RedisScript("""
    if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
    redis.call('HSET', KEYS[1], 'done:' .. ARGV[1], '1')
    local expected = redis.call('HGET', KEYS[1], 'expected') or ''
    for name in string.gmatch(expected, '[^,]+') do
      if redis.call('HEXISTS', KEYS[1], 'done:' .. name) == 0 then return 0 end
    end
    return 1
    """)

    public func begin(seller: SellerID, run: String, day: Day, expected: [FetchDataSet],
                      ttlSeconds: Double) async throws -> (expected: [FetchDataSet], day: Day) {
        let ttlMillis = max(1, Int((ttlSeconds * 1000).rounded(.up)))
        let reply = try await client.eval(Self.beginScript, keys: [key(seller: seller, run: run)],
                                          args: [expected.map(\.rawValue).joined(separator: ","), day.rawValue, String(ttlMillis)])
        guard let parts = reply.array, parts.count == 2, let list = parts[0].string, let rawDay = parts[1].string,
              let recordedDay = Day(rawValue: rawDay) else {
            throw RedisError(.reply, "fetch run \(run) of seller \(seller): begin failed: \(reply.errorMessage ?? "unexpected reply")")
        }
        let recorded = try list.split(separator: ",").map { name in
            guard let dataSet = FetchDataSet(rawValue: String(name)) else {
                throw RedisError(.reply, "fetch run \(run) of seller \(seller): unknown data set '\(name.prefix(20))' in the run record")
            }
            return dataSet
        }
        return (recorded, recordedDay)
    }

    public func complete(seller: SellerID, run: String, dataSet: FetchDataSet) async throws -> FanInState {
        let reply = try await client.eval(Self.completeScript, keys: [key(seller: seller, run: run)], args: [dataSet.rawValue])
        switch reply.int {
        case 1: return .complete
        case 0: return .waiting
        case -1: return .unknownRun
        default:
            throw RedisError(.reply, "fetch run \(run) of seller \(seller): fan-in of \(dataSet.rawValue) failed: \(reply.errorMessage ?? "unexpected reply")")
        }
    }
}
