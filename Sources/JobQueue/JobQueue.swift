import Domain
import Foundation

/// One job handed to a worker: the raw message, its parsed envelope and the receipt to settle it.
public struct Delivery: Sendable, Hashable {
    /// The stream the message came from.
    public var kind: JobKind
    /// The backend's id for this message (a Redis stream entry id).
    ///
    /// Unique within its kind's stream only: two streams written in the same millisecond hand out the
    /// same entry id. Use ``key`` wherever deliveries of several kinds meet.
    public var receipt: String
    /// The message exactly as stored, kept so a malformed one can be dead-lettered verbatim.
    public var raw: String
    /// The parsed envelope, or nil when the message is malformed.
    public var envelope: JobEnvelope?
    /// Why the message could not be parsed, when it could not.
    public var decodeError: String?
    /// How many times the backend has handed this message out (1 on first delivery).
    public var deliveryCount: Int

    /// Identifies this message among every kind's: `<kind>/<receipt>`.
    public var key: String { "\(kind.rawValue)/\(receipt)" }

    public init(kind: JobKind, receipt: String, raw: String, deliveryCount: Int = 1) {
        self.kind = kind
        self.receipt = receipt
        self.raw = raw
        self.deliveryCount = deliveryCount
        switch JobEnvelope.decode(raw) {
        case let .success(envelope):
            if envelope.kind != kind {
                self.decodeError = "job kind '\(envelope.kind)' arrived on the '\(kind)' stream"
            } else if !JobKind.all.contains(envelope.kind) {
                self.decodeError = "unknown job kind '\(envelope.kind)'"
            } else {
                self.envelope = envelope
            }
        case let .failure(error):
            self.decodeError = error.message
        }
    }
}

/// What became of a delivery; the backend applies a batch of outcomes in one round trip.
public enum Outcome: Sendable, Hashable {
    /// Done: acknowledge and forget.
    case completed(Delivery)
    /// Failed transiently: run `next` again at `at`.
    case retry(Delivery, next: JobEnvelope, at: Date, error: String)
    /// Failed for good (or too often): move to the dead-letter stream with the reason.
    case dead(Delivery, reason: String)
    /// Its seller is busy: run `next` again at `at` without counting an attempt.
    case deferred(Delivery, next: JobEnvelope, at: Date)
    /// The worker is stopping before the job could finish: put it back at once for another worker.
    case requeue(Delivery)

    public var delivery: Delivery {
        switch self {
        case let .completed(d), let .retry(d, _, _, _), let .dead(d, _), let .deferred(d, _, _), let .requeue(d): return d
        }
    }
}

/// The answer to an enqueue.
public enum EnqueueResult: Sendable, Equatable {
    case enqueued(id: String)
    /// A job with the same unique key was already enqueued while the key was held.
    case duplicate(uniqueKey: String)
}

/// The answer to a seller-lock request.
public enum LockResult: Sendable, Equatable {
    case acquired
    /// Another job holds the seller; it should be free in about `retryAfter` seconds.
    case busy(retryAfter: Double)
}

/// Counters and depths of one job kind, for `optmazon status`.
public struct KindStatus: Sendable, Codable, Equatable {
    public var kind: String
    public var streamLength: Int
    public var pending: Int
    public var delayed: Int
    public var processed: Int
    public var failed: Int
    public var retried: Int
    public var deadLettered: Int

    public init(kind: String, streamLength: Int = 0, pending: Int = 0, delayed: Int = 0, processed: Int = 0,
                failed: Int = 0, retried: Int = 0, deadLettered: Int = 0) {
        self.kind = kind
        self.streamLength = streamLength
        self.pending = pending
        self.delayed = delayed
        self.processed = processed
        self.failed = failed
        self.retried = retried
        self.deadLettered = deadLettered
    }
}

/// A worker process as it last reported itself.
public struct ConsumerInfo: Sendable, Codable, Equatable {
    public var name: String
    public var kinds: [String]
    public var pid: Int
    public var host: String
    public var startedAt: Int64
    public var lastHeartbeat: Int64
    public var inFlight: Int

    public init(name: String, kinds: [String], pid: Int, host: String, startedAt: Int64, lastHeartbeat: Int64, inFlight: Int) {
        self.name = name
        self.kinds = kinds
        self.pid = pid
        self.host = host
        self.startedAt = startedAt
        self.lastHeartbeat = lastHeartbeat
        self.inFlight = inFlight
    }
}

/// A dead-lettered job as an operator sees it.
public struct DeadJob: Sendable, Codable, Equatable {
    /// Id of the entry in the dead-letter stream (what `dead retry|drop` take).
    public var deadID: String
    public var kind: String
    public var jobID: String
    public var seller: String
    public var reason: String
    public var failedAt: Int64
    public var attempt: Int
    /// The original message, verbatim.
    public var message: String

    public init(deadID: String, kind: String, jobID: String, seller: String, reason: String, failedAt: Int64, attempt: Int, message: String) {
        self.deadID = deadID
        self.kind = kind
        self.jobID = jobID
        self.seller = seller
        self.reason = reason
        self.failedAt = failedAt
        self.attempt = attempt
        self.message = message
    }
}

/// The reliable job queue every worker and enqueuer talks to.
///
/// Implementations: ``InMemoryJobQueue`` for handler tests and `RedisJobQueue` (Redis Streams)
/// in production. Delivery is at-least-once: a delivery stays leased to its consumer until
/// settled, and is handed to another consumer once its lease has been idle past the visibility
/// timeout.
public protocol JobQueue: Sendable {
    /// Adds a job, to run at once or at `at`; with a unique key, refuses a second job holding
    /// the same key for `uniqueFor` seconds, atomically even under concurrent enqueuers.
    func enqueue(_ job: JobEnvelope, at: Date?, uniqueKey: String?, uniqueFor: Double) async throws -> EnqueueResult

    /// Prepares the queue for consuming `kinds` (creates streams and consumer groups).
    func prepare(kinds: [JobKind]) async throws

    /// Takes up to `max` new deliveries, waiting up to `wait` seconds for the first.
    func dequeue(kinds: [JobKind], consumer: String, max: Int, wait: Double) async throws -> [Delivery]

    /// Re-reads deliveries already leased to `consumer` (after a lost reply, e.g. a Redis restart).
    func ownPending(kinds: [JobKind], consumer: String, max: Int) async throws -> [Delivery]

    /// Takes over up to `max` deliveries whose lease has been idle for `minIdle` seconds (their worker died).
    func reclaim(kinds: [JobKind], consumer: String, minIdle: Double, max: Int) async throws -> [Delivery]

    /// Extends the leases of deliveries still being worked on.
    func renew(_ deliveries: [Delivery], consumer: String) async throws

    /// Applies outcomes, then releases the seller locks the settled jobs held, in one round trip.
    ///
    /// Completed jobs count as processed, dead ones as failed.
    func settle(_ outcomes: [Outcome], unlocking locks: [(SellerID, String)]) async throws

    /// Moves delayed jobs of `kinds` whose time has come into their streams; returns how many.
    func promoteDue(kinds: [JobKind], now: Date) async throws -> Int

    /// The earliest run time among delayed jobs of `kinds`, if any.
    func nextDelayed(kinds: [JobKind]) async throws -> Date?

    /// Tries to take the exclusive lock on each seller's store for `ttl` seconds, in order.
    ///
    /// A lock is held by a token (one per job); it expires by itself if its holder dies.
    func lockSellers(_ requests: [(SellerID, String)], ttl: Double) async throws -> [LockResult]

    /// Extends locks still held by their tokens.
    func renewSellerLocks(_ locks: [(SellerID, String)], ttl: Double) async throws

    /// Records that a worker is alive.
    func heartbeat(_ consumer: ConsumerInfo) async throws

    /// Removes a worker's record (on clean exit).
    func unregister(consumer: String, kinds: [JobKind]) async throws

    /// Depths and counters per kind.
    func status(kinds: [JobKind]) async throws -> [KindStatus]

    /// Workers that have reported a heartbeat.
    func consumers() async throws -> [ConsumerInfo]

    /// Dead-lettered jobs, oldest first.
    func deadJobs(limit: Int) async throws -> [DeadJob]

    /// Puts dead jobs back into their streams with a fresh attempt count; returns how many.
    func retryDead(ids: [String]) async throws -> Int

    /// Deletes dead jobs; returns how many.
    func dropDead(ids: [String]) async throws -> Int

    /// Removes every queued and delayed job of `seller` (used when a seller's data is wiped).
    func dropJobs(of seller: SellerID, kinds: [JobKind]) async throws -> Int
}

/// One job to enqueue, with its timing and uniqueness.
public struct EnqueueRequest: Sendable {
    public var job: JobEnvelope
    public var at: Date?
    public var uniqueKey: String?
    public var uniqueFor: Double

    public init(_ job: JobEnvelope, at: Date? = nil, uniqueKey: String? = nil, uniqueFor: Double = 0) {
        self.job = job
        self.at = at
        self.uniqueKey = uniqueKey
        self.uniqueFor = uniqueFor
    }
}

extension JobQueue {
    /// Enqueues many jobs; the Redis queue sends them in one round trip.
    public func enqueue(batch: [EnqueueRequest]) async throws -> [EnqueueResult] {
        var results: [EnqueueResult] = []
        for request in batch {
            results.append(try await enqueue(request.job, at: request.at, uniqueKey: request.uniqueKey, uniqueFor: request.uniqueFor))
        }
        return results
    }

    /// Enqueues a job to run now, without a unique key.
    public func enqueue(_ job: JobEnvelope) async throws -> EnqueueResult {
        try await enqueue(job, at: nil, uniqueKey: nil, uniqueFor: 0)
    }
}
